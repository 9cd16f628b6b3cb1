"""SQL for workspace policies. No web framework.

Rules are checked with :func:`flashback_tui.server.policies.compile_rule` before they are
stored, so everything in the table compiles.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from flashback_tui.api.models import Policy
from flashback_tui.server.db import transaction
from flashback_tui.server.policies import CompiledPolicy, PolicyRuleError, compile_rule
from flashback_tui.server.store import base as store_base

POLICY_NOT_FOUND = "policy not found"
_COLUMNS = {"name": "name", "content": "content", "risk_type": "risk_type",
            "action_type": "action_type"}


def _check_rule(content: str) -> None:
    try:
        compile_rule(content)
    except PolicyRuleError as exc:
        raise store_base.Invalid(str(exc)) from None


def _conflict(exc: sqlite3.IntegrityError, name: object) -> store_base.StoreError | None:
    if "UNIQUE" in str(exc):
        return store_base.Conflict(
            f"name: a policy named {name!r} already exists in this workspace")
    return None


def create_policy(conn: sqlite3.Connection, *, workspace_id: str, user_id: str | None,
                  name: str, content: str, risk_type: str, action_type: int) -> str:
    """Insert a policy after checking its rule."""
    _check_rule(content)
    policy_id = store_base.new_id()
    now = store_base.now_iso()
    with transaction(conn):
        ws = conn.execute("SELECT org_id FROM workspaces WHERE id = ?", (workspace_id,)
                          ).fetchone()
        if ws is None:
            raise store_base.NotFound("workspace not found")
        try:
            conn.execute(
                "INSERT INTO policies (id, org_id, workspace_id, user_id, name, content,"
                " risk_type, action_type, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (policy_id, ws["org_id"], workspace_id, user_id, name, content, risk_type,
                 action_type, now, now),
            )
        except sqlite3.IntegrityError as exc:
            raise (_conflict(exc, name) or exc) from None
    return policy_id


def policy_row(conn: sqlite3.Connection, policy_id: str) -> sqlite3.Row | None:
    """The raw row of a policy, or None."""
    return conn.execute("SELECT * FROM policies WHERE id = ?", (policy_id,)).fetchone()


def _policy(row: Mapping[str, Any]) -> Policy:
    return Policy.model_validate({
        "id": row["id"], "orgId": row["org_id"], "workspaceId": row["workspace_id"],
        "userId": row["user_id"], "name": row["name"], "content": row["content"],
        "riskType": row["risk_type"], "actionType": row["action_type"],
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    })


def get_policy(row: Mapping[str, Any]) -> Policy:
    """A row as the wire model."""
    return _policy(row)


def list_policies(conn: sqlite3.Connection, user_id: str, workspace_id: str | None = None
                  ) -> list[Policy]:
    """Policies of the user's workspaces (or one of them), by name."""
    params: list[Any] = [user_id]
    extra = ""
    if workspace_id is not None:
        extra = " AND p.workspace_id = ?"
        params.append(workspace_id)
    rows = conn.execute(
        "SELECT p.* FROM policies p JOIN memberships m ON m.workspace_id = p.workspace_id"  # noqa: S608
        f" WHERE m.user_id = ?{extra} ORDER BY p.name, p.id",
        params,
    ).fetchall()
    return [_policy(r) for r in rows]


def update_policy(conn: sqlite3.Connection, policy_id: str, changes: Mapping[str, Any]) -> None:
    """Apply a partial update (python field names of PolicyUpdate)."""
    sets = {_COLUMNS[name]: value for name, value in changes.items() if name in _COLUMNS}
    if "content" in sets:
        _check_rule(sets["content"])
    if not sets:
        if policy_row(conn, policy_id) is None:
            raise store_base.NotFound(POLICY_NOT_FOUND)
        return
    sets["updated_at"] = store_base.now_iso()
    assignments = ", ".join(f"{column} = ?" for column in sets)
    with transaction(conn):
        try:
            cursor = conn.execute(f"UPDATE policies SET {assignments} WHERE id = ?",  # noqa: S608
                                  [*sets.values(), policy_id])
        except sqlite3.IntegrityError as exc:
            raise (_conflict(exc, sets.get("name")) or exc) from None
        if cursor.rowcount == 0:
            raise store_base.NotFound(POLICY_NOT_FOUND)


def delete_policy(conn: sqlite3.Connection, policy_id: str) -> None:
    """Remove a policy."""
    with transaction(conn):
        if conn.execute("DELETE FROM policies WHERE id = ?", (policy_id,)).rowcount == 0:
            raise store_base.NotFound(POLICY_NOT_FOUND)


def compiled_policies(conn: sqlite3.Connection, workspace_id: str) -> list[CompiledPolicy]:
    """The workspace's policies, compiled, for the gateway (a rule that no longer compiles
    under this Python is skipped rather than blocking all traffic)."""
    rows = conn.execute(
        "SELECT id, name, content, risk_type, action_type FROM policies"
        " WHERE workspace_id = ? ORDER BY name, id",
        (workspace_id,),
    ).fetchall()
    out = []
    for r in rows:
        try:
            pattern = compile_rule(r["content"])
        except PolicyRuleError:
            continue
        out.append(CompiledPolicy(id=r["id"], name=r["name"], risk_type=r["risk_type"],
                                  action_type=r["action_type"], pattern=pattern))
    return out
