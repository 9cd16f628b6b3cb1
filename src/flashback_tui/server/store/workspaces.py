"""Workspaces and their members.

Names are unique per org, compared case-insensitively. A workspace keeps at least one ADMIN
once it has one: removing or demoting the last ADMIN is refused (:class:`InUse`), and so is
deleting a workspace that still holds configurations or repositories. Each change records
one system event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flashback_tui.api.models import Role
from flashback_tui.server.sql import Conn, IntegrityError, Record, transaction
from flashback_tui.server.store import events
from flashback_tui.server.store.base import (
    Conflict,
    InUse,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
)
from flashback_tui.server.store.users import default_org_id, user_in_org

NAME_MAX = 255


@dataclass(frozen=True)
class MemberRecord:
    """A membership and the person holding it (``name``/``last_name`` are "" when unknown)."""

    user_id: str
    role: Role
    email: str
    name: str
    last_name: str
    org_role: int | None


@dataclass
class WorkspaceRecord:
    """A workspace; ``members`` is filled by the calls that list them."""

    id: str
    name: str
    org_id: str
    members: list[MemberRecord] = field(default_factory=list)


def _record(row: Record) -> WorkspaceRecord:
    return WorkspaceRecord(id=row["id"], name=row["name"], org_id=row["org_id"])


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(f"name: must be 1 to {NAME_MAX} characters")
    return name


def _check_name_free(conn: Conn, org_id: str, name: str,
                     except_id: str = "") -> None:
    taken = conn.execute(
        "SELECT 1 FROM workspaces WHERE org_id = ? AND lower(name) = lower(?) AND id != ?",
        (org_id, name, except_id),
    ).fetchone()
    if taken:
        raise Conflict(f"a workspace named {name} already exists")


def create_workspace(conn: Conn, name: str, *, org_id: str | None = None,
                     actor: events.Actor | None = None, admin_id: str | None = None) -> str:
    """Add a workspace (to ``org_id``, else the default org); ``admin_id`` becomes its ADMIN.

    Conflict if the org already has a workspace of that name (in any letter case).
    """
    name = _clean_name(name)
    ws_id = new_id()
    with transaction(conn):
        org_id = org_id or default_org_id(conn)
        _check_name_free(conn, org_id, name)
        try:
            conn.execute(
                "INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                (ws_id, org_id, name, now_iso()),
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise Conflict(f"a workspace named {name} already exists") from None
            raise
        if admin_id is not None:
            conn.execute("INSERT INTO memberships (workspace_id, user_id, role)"
                         " VALUES (?, ?, 'ADMIN')", (ws_id, admin_id))
        events.record(conn, actor, context=events.WORKSPACE, context_id=ws_id,
                      event=events.CREATED, workspace_id=ws_id, changed=["name"],
                      org_id=org_id)
    return ws_id


def workspace_row(conn: Conn, workspace_id: str) -> WorkspaceRecord | None:
    """A workspace by id (without members), or None."""
    row = conn.execute("SELECT id, name, org_id FROM workspaces WHERE id = ?",
                       (workspace_id,)).fetchone()
    return _record(row) if row else None


def find_workspace(conn: Conn, name_or_id: str) -> Record:
    """A workspace by id or by name (any letter case); NotFound otherwise."""
    row = conn.execute(
        "SELECT * FROM workspaces WHERE id = ? OR lower(name) = lower(?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (name_or_id, name_or_id, name_or_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"no workspace {name_or_id}")
    return row


def rename_workspace(conn: Conn, workspace_id: str, name: str | None, *,
                     actor: events.Actor | None = None) -> WorkspaceRecord:
    """Rename a workspace (None keeps the name); one event if the name changed."""
    with transaction(conn):
        current = workspace_row(conn, workspace_id)
        if current is None:
            raise NotFound("workspace not found")
        if name is None or _clean_name(name) == current.name:
            return current
        name = _clean_name(name)
        _check_name_free(conn, current.org_id, name, except_id=workspace_id)
        conn.execute("UPDATE workspaces SET name = ? WHERE id = ?", (name, workspace_id))
        events.record(conn, actor, context=events.WORKSPACE, context_id=workspace_id,
                      event=events.UPDATED, workspace_id=workspace_id, changed=["name"],
                      org_id=current.org_id)
    return WorkspaceRecord(id=current.id, name=name, org_id=current.org_id)


def _plural(count: int, noun: str, plural: str) -> str:
    return f"{count} {noun if count == 1 else plural}"


def delete_workspace(conn: Conn, workspace_id: str, *,
                     actor: events.Actor | None = None) -> None:
    """Delete an empty workspace and its memberships; InUse while it holds anything."""
    with transaction(conn):
        current = workspace_row(conn, workspace_id)
        if current is None:
            raise NotFound("workspace not found")
        llms = conn.execute("SELECT COUNT(*) FROM ai_llms WHERE workspace_id = ?",
                            (workspace_id,)).fetchone()[0]
        repos = conn.execute("SELECT COUNT(*) FROM repos WHERE workspace_id = ?",
                             (workspace_id,)).fetchone()[0]
        if llms or repos:
            left = [_plural(n, noun, plural) for n, noun, plural in (
                (llms, "configuration", "configurations"),
                (repos, "repository", "repositories")) if n]
            raise InUse(f"workspace {current.name} still holds {' and '.join(left)};"
                        " delete them first")
        conn.execute("DELETE FROM workspaces WHERE id = ?", (workspace_id,))
        events.record(conn, actor, context=events.WORKSPACE, context_id=workspace_id,
                      event=events.DELETED, workspace_id=workspace_id, org_id=current.org_id)


# -- members ---------------------------------------------------------------------------------


def role_in(conn: Conn, user_id: str, workspace_id: str) -> Role | None:
    """The caller's role in a workspace, or None if not a member (or no such workspace)."""
    row = conn.execute(
        "SELECT role FROM memberships WHERE user_id = ? AND workspace_id = ?",
        (user_id, workspace_id),
    ).fetchone()
    return Role(row["role"]) if row else None


def _member_event(conn: Conn, actor: events.Actor | None, ws: WorkspaceRecord,
                  user_id: str, event: int, changed: list[str] | None) -> None:
    events.record(conn, actor, context=events.WORKSPACE_USER, context_id=user_id, event=event,
                  workspace_id=ws.id, changed=changed, org_id=ws.org_id)


def _require(conn: Conn, workspace_id: str) -> WorkspaceRecord:
    ws = workspace_row(conn, workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return ws


def _guard_last_admin(conn: Conn, ws: WorkspaceRecord, user_id: str,
                      doing: str) -> None:
    """InUse if ``user_id`` is the workspace's only ADMIN."""
    admins = [r["user_id"] for r in conn.execute(
        "SELECT user_id FROM memberships WHERE workspace_id = ? AND role = 'ADMIN'", (ws.id,))]
    if admins == [user_id]:
        raise InUse(f"cannot {doing} the last ADMIN of workspace {ws.name}; make another"
                    " member ADMIN first")


def add_member(conn: Conn, workspace_id: str, user_id: str, role: Role, *,
               actor: events.Actor | None = None) -> None:
    """Add a user of the workspace's org; NotFound for a stranger, Conflict if a member."""
    with transaction(conn):
        ws = _require(conn, workspace_id)
        if user_in_org(conn, user_id, ws.org_id) is None:
            raise NotFound("user not found")
        if role_in(conn, user_id, workspace_id) is not None:
            raise Conflict("the user is already a member of this workspace")
        conn.execute("INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?)",
                     (workspace_id, user_id, Role(role).value))
        _member_event(conn, actor, ws, user_id, events.CREATED, ["userId", "role"])


def change_member_role(conn: Conn, workspace_id: str, user_id: str, role: Role,
                       *, actor: events.Actor | None = None) -> None:
    """Give a member another role; refuses to demote the last ADMIN."""
    role = Role(role)
    with transaction(conn):
        ws = _require(conn, workspace_id)
        current = role_in(conn, user_id, workspace_id)
        if current is None:
            raise NotFound("the user is not a member of this workspace")
        if current == role:
            return
        if current is Role.ADMIN:
            _guard_last_admin(conn, ws, user_id, "demote")
        conn.execute("UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?",
                     (role.value, workspace_id, user_id))
        _member_event(conn, actor, ws, user_id, events.UPDATED, ["role"])


def remove_member(conn: Conn, workspace_id: str, user_id: str, *,
                  actor: events.Actor | None = None) -> None:
    """Remove a member; refuses to remove the last ADMIN."""
    with transaction(conn):
        ws = _require(conn, workspace_id)
        if role_in(conn, user_id, workspace_id) is None:
            raise NotFound("the user is not a member of this workspace")
        _guard_last_admin(conn, ws, user_id, "remove")
        conn.execute("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?",
                     (workspace_id, user_id))
        _member_event(conn, actor, ws, user_id, events.DELETED, None)


def set_membership(conn: Conn, workspace_id: str, user_id: str, role: Role, *,
                   actor: events.Actor | None = None) -> None:
    """Give a user a role in a workspace, adding or changing the membership (``admin``)."""
    if role_in(conn, user_id, workspace_id) is None:
        add_member(conn, workspace_id, user_id, role, actor=actor)
    else:
        change_member_role(conn, workspace_id, user_id, role, actor=actor)


# -- listing ---------------------------------------------------------------------------------


def _with_members(conn: Conn, rows: list[Record]) -> list[WorkspaceRecord]:
    workspaces = {r["id"]: _record(r) for r in rows}
    if not workspaces:
        return []
    marks = ",".join("?" * len(workspaces))
    members = conn.execute(
        "SELECT m.workspace_id, m.role, u.id, u.name, u.last_name, u.email, u.org_role"  # noqa: S608
        f" FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id IN ({marks})"
        " ORDER BY lower(u.email)",  # emails are unique in any letter case
        list(workspaces),
    ).fetchall()
    for m in members:
        workspaces[m["workspace_id"]].members.append(MemberRecord(
            user_id=m["id"], role=Role(m["role"]), email=m["email"], name=m["name"] or "",
            last_name=m["last_name"] or "", org_role=m["org_role"]))
    return list(workspaces.values())


def workspaces_of(conn: Conn, user_id: str, workspace_id: str | None = None
                  ) -> list[WorkspaceRecord]:
    """Workspaces the user belongs to (or just ``workspace_id``), each with its members."""
    extra, params = ("", [user_id]) if workspace_id is None else (" AND w.id = ?",
                                                                  [user_id, workspace_id])
    rows = conn.execute(
        "SELECT w.id, w.name, w.org_id FROM workspaces w"  # noqa: S608
        " JOIN memberships m ON m.workspace_id = w.id"
        f" WHERE m.user_id = ?{extra} ORDER BY w.created_at, w.rowid",
        params,
    ).fetchall()
    return _with_members(conn, rows)


def workspace_with_members(conn: Conn, workspace_id: str
                           ) -> WorkspaceRecord | None:
    """One workspace with its members, whoever asks (callers check access), or None."""
    rows = conn.execute("SELECT id, name, org_id FROM workspaces WHERE id = ?",
                        (workspace_id,)).fetchall()
    found = _with_members(conn, rows)
    return found[0] if found else None
