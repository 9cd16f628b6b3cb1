"""Workspaces and their members."""

from __future__ import annotations

import sqlite3
from typing import Any

from pydantic import TypeAdapter

from flashback_tui.api.models import (
    AiLlm,
    AiLlmStats,
    Role,
    UserInfo,
    Workspace,
    WorkspaceUser,
)
from flashback_tui.server.db import transaction
from flashback_tui.server.store.base import (
    Conflict,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
)
from flashback_tui.server.store.users import default_org_id

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])


def create_workspace(conn: sqlite3.Connection, name: str) -> str:
    """Add a workspace to the default org; Conflict if the name is taken."""
    name = name.strip()
    if not name or len(name) > 255:
        raise Invalid("name: must be 1 to 255 characters")
    ws_id = new_id()
    with transaction(conn):
        try:
            conn.execute(
                "INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                (ws_id, default_org_id(conn), name, now_iso()),
            )
        except sqlite3.IntegrityError as exc:
            if is_unique_violation(exc):
                raise Conflict(f"a workspace named {name} already exists") from None
            raise
    return ws_id


def find_workspace(conn: sqlite3.Connection, name_or_id: str) -> sqlite3.Row:
    """A workspace by id or by name; NotFound otherwise."""
    row = conn.execute(
        "SELECT * FROM workspaces WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
        (name_or_id, name_or_id, name_or_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"no workspace {name_or_id}")
    return row


def set_membership(conn: sqlite3.Connection, workspace_id: str, user_id: str, role: Role) -> None:
    """Give a user a role in a workspace (replacing any previous role)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?)"
            " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
            (workspace_id, user_id, Role(role).value),
        )


def role_in(conn: sqlite3.Connection, user_id: str, workspace_id: str) -> Role | None:
    """The caller's role in a workspace, or None if not a member (or no such workspace)."""
    row = conn.execute(
        "SELECT role FROM memberships WHERE user_id = ? AND workspace_id = ?",
        (user_id, workspace_id),
    ).fetchone()
    return Role(row["role"]) if row else None


def workspaces_of(conn: sqlite3.Connection, user_id: str, workspace_id: str | None = None
                  ) -> list[Workspace]:
    """Workspaces the user belongs to (or just ``workspace_id``), each with its members."""
    params: list[Any] = [user_id]
    extra = ""
    if workspace_id is not None:
        extra = " AND w.id = ?"
        params.append(workspace_id)
    rows = conn.execute(
        "SELECT w.id, w.name, w.org_id FROM workspaces w"  # noqa: S608
        " JOIN memberships m ON m.workspace_id = w.id"
        f" WHERE m.user_id = ?{extra} ORDER BY w.created_at, w.rowid",
        params,
    ).fetchall()
    workspaces = {r["id"]: Workspace(id=r["id"], name=r["name"], org_id=r["org_id"])
                  for r in rows}
    if not workspaces:
        return []
    members = conn.execute(
        "SELECT m.workspace_id, m.role, u.id, u.name, u.last_name, u.email, u.org_role"
        " FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = ?)"
        " ORDER BY u.email",
        (user_id,),
    ).fetchall()
    for m in members:
        ws = workspaces.get(m["workspace_id"])
        if ws is None:
            continue
        info = UserInfo(id=m["id"], name=m["name"], last_name=m["last_name"],
                        email=m["email"], org_role=m["org_role"])
        ws.users.append(WorkspaceUser(user_id=m["id"], role=Role(m["role"]), user=info))
    return list(workspaces.values())
