"""SQL for policies at organization, workspace or repository scope. No web framework.

A policy with a repository also stores that repository's workspace, so access to it follows
the workspace's membership. Rules in ``re:`` form must compile (:func:`compile_rule`) before
they are stored; natural-language content is stored as given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flashback_tui.server.policies import CompiledPolicy, PolicyRuleError, compile_rule
from flashback_tui.server.sql import Conn, IntegrityError, marks, transaction
from flashback_tui.server.store import base as store_base

POLICY_NOT_FOUND = "policy not found"
#: ``orgRole`` values that see and manage every policy of the org (OWNER, ADMINISTRATORS).
ORG_ADMIN_ROLES = frozenset({255, 254})
_COLUMNS = {"name": "name", "content": "content", "risk_type": "risk_type",
            "action_type": "action_type"}
_SELECT = (
    "SELECT p.*, w.name AS workspace_name, r.name AS repo_name,"
    " c.name AS c_name, c.last_name AS c_last_name, c.email AS c_email,"
    " u.name AS u_name, u.last_name AS u_last_name, u.email AS u_email"
    " FROM policies p LEFT JOIN workspaces w ON w.id = p.workspace_id"
    " LEFT JOIN repos r ON r.id = p.repo_id"
    " LEFT JOIN users c ON c.id = p.created_by LEFT JOIN users u ON u.id = p.last_updated_by"
)


@dataclass(frozen=True)
class Person:
    """Who created or last changed a policy."""

    id: str
    name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class PolicyRecord:
    """A stored policy with the names of its scope and people."""

    id: str
    org_id: str
    name: str
    content: str
    risk_type: str
    action_type: int
    workspace_id: str | None
    workspace_name: str | None
    repo_id: str | None
    repo_name: str | None
    created_by: Person | None
    last_updated_by: Person | None
    created_at: str
    updated_at: str


def _person(row: Mapping[str, Any], column: str, prefix: str) -> Person | None:
    if row[column] is None:
        return None
    return Person(id=row[column], name=row[f"{prefix}_name"] or "",
                  last_name=row[f"{prefix}_last_name"] or "", email=row[f"{prefix}_email"] or "")


def _record(row: Mapping[str, Any]) -> PolicyRecord:
    return PolicyRecord(
        id=row["id"], org_id=row["org_id"], name=row["name"], content=row["content"],
        risk_type=row["risk_type"], action_type=row["action_type"],
        workspace_id=row["workspace_id"], workspace_name=row["workspace_name"],
        repo_id=row["repo_id"], repo_name=row["repo_name"],
        created_by=_person(row, "created_by", "c"),
        last_updated_by=_person(row, "last_updated_by", "u"),
        created_at=row["created_at"], updated_at=row["updated_at"])


def check_rule(content: str) -> None:
    """Refuse a rule that cannot be used (Invalid naming ``content``); prose is fine."""
    try:
        compile_rule(content)
    except PolicyRuleError as exc:
        raise store_base.Invalid(str(exc)) from None


def _conflict(exc: IntegrityError, name: object) -> store_base.StoreError | None:
    if store_base.is_unique_violation(exc):
        return store_base.Conflict(f"name: a policy named {name!r} already exists at this scope")
    return None


def resolve_scope(conn: Conn, org_id: str, workspace_id: str | None,
                  repo_id: str | None) -> tuple[str | None, str | None]:
    """``(workspace_id, repo_id)`` to store: a repository brings its workspace.

    NotFound when the workspace or repository is not in the org; Invalid when both are given
    and the repository is in another workspace.
    """
    if repo_id is not None:
        row = conn.execute("SELECT r.workspace_id FROM repos r JOIN workspaces w"
                           " ON w.id = r.workspace_id WHERE r.id = ? AND w.org_id = ?",
                           (repo_id, org_id)).fetchone()
        if row is None:
            raise store_base.NotFound("repository not found")
        if workspace_id is not None and workspace_id != row["workspace_id"]:
            raise store_base.Invalid("repoId: the repository is not in workspace "
                                     f"{workspace_id}")
        return row["workspace_id"], repo_id
    if workspace_id is not None and conn.execute(
            "SELECT 1 FROM workspaces WHERE id = ? AND org_id = ?",
            (workspace_id, org_id)).fetchone() is None:
        raise store_base.NotFound("workspace not found")
    return workspace_id, None


def create_policy(conn: Conn, *, org_id: str, workspace_id: str | None,
                  repo_id: str | None, user_id: str, name: str, content: str,
                  risk_type: str, action_type: int) -> str:
    """Insert a policy (scope already resolved by :func:`resolve_scope`)."""
    check_rule(content)
    policy_id = store_base.new_id()
    now = store_base.now_iso()
    with transaction(conn):
        try:
            conn.execute(
                "INSERT INTO policies (id, org_id, workspace_id, repo_id, created_by,"
                " last_updated_by, name, content, risk_type, action_type, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (policy_id, org_id, workspace_id, repo_id, user_id, user_id, name, content,
                 risk_type, int(action_type), now, now))
        except IntegrityError as exc:
            raise (_conflict(exc, name) or exc) from None
    return policy_id


def get_policy(conn: Conn, policy_id: str) -> PolicyRecord | None:
    """One policy, or None."""
    row = conn.execute(f"{_SELECT} WHERE p.id = ?", (policy_id,)).fetchone()
    return _record(row) if row is not None else None


def list_policies(conn: Conn, org_id: str, *,
                  visible_workspaces: Collection[str] | None,
                  workspace_id: str | None = None, repo_id: str | None = None
                  ) -> list[PolicyRecord]:
    """The org's policies by name: org-wide ones plus those of ``visible_workspaces``
    (None = every workspace), narrowed to one workspace or repository if asked."""
    clauses, params = ["p.org_id = ?"], [org_id]
    if visible_workspaces is not None:
        clauses.append("(p.workspace_id IS NULL OR p.workspace_id IN"
                       f" ({marks(visible_workspaces)}))")
        params.extend(visible_workspaces)
    if workspace_id is not None:
        clauses.append("p.workspace_id = ?")
        params.append(workspace_id)
    if repo_id is not None:
        clauses.append("p.repo_id = ?")
        params.append(repo_id)
    rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(clauses)}"
                        " ORDER BY p.name, p.id", params).fetchall()
    return [_record(r) for r in rows]


def update_policy(conn: Conn, policy_id: str, changes: Mapping[str, Any],
                  user_id: str) -> None:
    """Apply a partial update (python field names of PolicyUpdate)."""
    sets = {_COLUMNS[name]: value for name, value in changes.items() if name in _COLUMNS}
    if "content" in sets:
        check_rule(sets["content"])
    if "action_type" in sets:
        sets["action_type"] = int(sets["action_type"])
    sets["updated_at"] = store_base.now_iso()
    sets["last_updated_by"] = user_id
    assignments = ", ".join(f"{column} = ?" for column in sets)
    with transaction(conn):
        try:
            cursor = conn.execute(f"UPDATE policies SET {assignments} WHERE id = ?",  # noqa: S608
                                  [*sets.values(), policy_id])
        except IntegrityError as exc:
            raise (_conflict(exc, sets.get("name")) or exc) from None
        if cursor.rowcount == 0:
            raise store_base.NotFound(POLICY_NOT_FOUND)


def delete_policy(conn: Conn, policy_id: str) -> None:
    """Remove a policy (its violations and alerts stay, with the policy's name)."""
    with transaction(conn):
        if conn.execute("DELETE FROM policies WHERE id = ?", (policy_id,)).rowcount == 0:
            raise store_base.NotFound(POLICY_NOT_FOUND)


def enforced_policies(conn: Conn, org_id: str) -> list[CompiledPolicy]:
    """Every enforced policy of an org, compiled, for the gateway (natural-language content,
    and a rule that no longer compiles under this Python, are skipped)."""
    rows = conn.execute(
        "SELECT id, name, content, risk_type, action_type, workspace_id, repo_id"
        " FROM policies WHERE org_id = ? ORDER BY name, id", (org_id,)).fetchall()
    out = []
    for r in rows:
        try:
            pattern = compile_rule(r["content"])
        except PolicyRuleError:
            continue
        if pattern is not None:
            out.append(CompiledPolicy(
                id=r["id"], name=r["name"], risk_type=r["risk_type"],
                action_type=r["action_type"], pattern=pattern, content=r["content"],
                workspace_id=r["workspace_id"], repo_id=r["repo_id"]))
    return out


def is_org_admin(org_role: int) -> bool:
    """OWNER and ADMINISTRATORS see every workspace's policies and manage org-wide ones."""
    return org_role in ORG_ADMIN_ROLES


def member_workspaces(conn: Conn, user_id: str) -> set[str]:
    """The workspaces a user belongs to (any role)."""
    rows = conn.execute("SELECT workspace_id FROM memberships WHERE user_id = ?",
                        (user_id,)).fetchall()
    return {r[0] for r in rows}


def repo_workspace(conn: Conn, repo_id: str, org_id: str) -> str | None:
    """The workspace of a repository of the org, or None."""
    row = conn.execute("SELECT r.workspace_id FROM repos r JOIN workspaces w"
                       " ON w.id = r.workspace_id WHERE r.id = ? AND w.org_id = ?",
                       (repo_id, org_id)).fetchone()
    return row[0] if row is not None else None
