"""SQL for policy violations and alerts: written by the gateway, listed by ``/policy``.

Rows carry names (policy, repository, key, user) as they were when the prompt matched, so
a list still reads well after a rename or a delete. No prompt text is ever stored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flashback_tui.server.sql import Conn, Record, marks, transaction
from flashback_tui.server.store import base as store_base


@dataclass(frozen=True)
class KeyContext:
    """What a violation names about the key a request came with."""

    org_id: str
    repo_name: str
    key_name: str
    user_id: str
    user_name: str


@dataclass(frozen=True)
class ViolationRecord:
    """One match of one policy (also the alert's content when ``alert``)."""

    id: str
    org_id: str
    at_ms: int
    policy_id: str
    policy_name: str
    workspace_id: str
    repo_id: str
    repo_name: str
    user_id: str
    user_name: str
    repo_ai_api_key_id: str
    repo_ai_api_key_name: str
    ai_llm_id: str
    llm_type: str
    llm_model: str
    host: str
    severity: str | None
    block: bool
    explanation: str
    conversation_id: str | None
    alert: bool = False


@dataclass
class ListFilters:
    """The filters of the violation and alert lists (severity and block: violations only)."""

    workspace_id: str | None = None
    repo_id: str | None = None
    policy_id: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None
    llm_type: list[str] = field(default_factory=list)
    llm_model: list[str] = field(default_factory=list)
    host: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    block: bool | None = None
    skip: int = 0
    take: int = 50


def key_context(conn: Conn, key_id: str) -> KeyContext | None:
    """The org, repository name, key name and key creator of a repository AI key."""
    row = conn.execute(
        "SELECT w.org_id, r.name AS repo_name, k.name AS key_name, k.user_id,"
        " COALESCE(TRIM(COALESCE(u.name, '') || ' ' || COALESCE(u.last_name, '')), '')"
        " AS user_name FROM repo_ai_api_keys k JOIN repos r ON r.id = k.repo_id"
        " JOIN workspaces w ON w.id = r.workspace_id LEFT JOIN users u ON u.id = k.user_id"
        " WHERE k.id = ?", (key_id,)).fetchone()
    if row is None:
        return None
    return KeyContext(org_id=row["org_id"], repo_name=row["repo_name"],
                      key_name=row["key_name"], user_id=row["user_id"] or "",
                      user_name=row["user_name"] or "")


_COMMON = ("id, org_id, at_ms, policy_id, policy_name, workspace_id, repo_id, repo_name,"
           " user_id, user_name, repo_ai_api_key_id, repo_ai_api_key_name, ai_llm_id, llm_type,"
           " llm_model, host, conversation_id")


def _common(v: ViolationRecord, row_id: str) -> tuple[Any, ...]:
    return (row_id, v.org_id, v.at_ms, v.policy_id, v.policy_name, v.workspace_id, v.repo_id,
            v.repo_name, v.user_id, v.user_name, v.repo_ai_api_key_id, v.repo_ai_api_key_name,
            v.ai_llm_id, v.llm_type, v.llm_model, v.host, v.conversation_id)


def write_violations(conn: Conn, records: Sequence[ViolationRecord]) -> None:
    """Insert violations (and their alerts) in one transaction."""
    if not records:
        return
    common = marks(_COMMON.split(","))
    with transaction(conn):
        conn.executemany(
            f"INSERT INTO policy_violations ({_COMMON}, severity, block, explanation)"  # noqa: S608
            f" VALUES ({common}, ?, ?, ?)",
            [(*_common(v, v.id), v.severity, int(v.block), v.explanation) for v in records])
        conn.executemany(
            f"INSERT INTO policy_alerts ({_COMMON}, violation_id, message)"  # noqa: S608
            f" VALUES ({common}, ?, ?)",
            [(*_common(v, store_base.new_id()), v.id, v.explanation)
             for v in records if v.alert])


def _in(column: str, values: Iterable[Any], clauses: list[str], params: list[Any]) -> None:
    values = list(values)
    if values:
        clauses.append(f"{column} IN ({','.join('?' * len(values))})")
        params.extend(values)


def _where(org_id: str, visible: Collection[str] | None, f: ListFilters, *,
           violations: bool) -> tuple[str, list[Any]]:
    clauses, params = ["org_id = ?"], [org_id]
    if visible is not None:
        clauses.append(f"workspace_id IN ({marks(visible)})")  # none visible: no row
        params.extend(visible)
    for column, value in (("workspace_id", f.workspace_id), ("repo_id", f.repo_id),
                          ("policy_id", f.policy_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.from_ms is not None:
        clauses.append("at_ms >= ?")
        params.append(f.from_ms)
    if f.to_ms is not None:
        clauses.append("at_ms <= ?")
        params.append(f.to_ms)
    _in("llm_type", f.llm_type, clauses, params)
    _in("llm_model", f.llm_model, clauses, params)
    _in("host", f.host, clauses, params)
    if violations:
        _in("severity", f.severity, clauses, params)
        if f.block is not None:
            clauses.append("block = ?")
            params.append(int(f.block))
    return " AND ".join(clauses), params


def _to_record(row: Record, *, alert: bool) -> ViolationRecord:
    return ViolationRecord(
        id=row["id"], org_id=row["org_id"], at_ms=row["at_ms"], policy_id=row["policy_id"],
        policy_name=row["policy_name"], workspace_id=row["workspace_id"],
        repo_id=row["repo_id"], repo_name=row["repo_name"], user_id=row["user_id"],
        user_name=row["user_name"], repo_ai_api_key_id=row["repo_ai_api_key_id"],
        repo_ai_api_key_name=row["repo_ai_api_key_name"], ai_llm_id=row["ai_llm_id"],
        llm_type=row["llm_type"], llm_model=row["llm_model"], host=row["host"],
        severity=None if alert else row["severity"], block=False if alert else bool(row["block"]),
        explanation=row["message"] if alert else row["explanation"],
        conversation_id=row["conversation_id"], alert=alert)


def _page(conn: Conn, table: str, where: str, params: list[Any],
          f: ListFilters) -> tuple[list[ViolationRecord], int]:
    total = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}",  # noqa: S608
                         params).fetchone()[0]
    rows = conn.execute(f"SELECT * FROM {table} WHERE {where}"  # noqa: S608
                        " ORDER BY at_ms DESC, rowid DESC LIMIT ? OFFSET ?",
                        [*params, f.take, f.skip]).fetchall()
    alert = table == "policy_alerts"
    return [_to_record(r, alert=alert) for r in rows], total


def list_violations(conn: Conn, org_id: str, visible: Collection[str] | None,
                    filters: ListFilters) -> tuple[list[ViolationRecord], int]:
    """A page of violations, newest first, and how many match in all (``visible``: the
    workspaces the caller may see, None for all)."""
    where, params = _where(org_id, visible, filters, violations=True)
    return _page(conn, "policy_violations", where, params, filters)


def list_alerts(conn: Conn, org_id: str, visible: Collection[str] | None,
                filters: ListFilters) -> tuple[list[ViolationRecord], int]:
    """A page of alerts, newest first, and how many match in all."""
    where, params = _where(org_id, visible, filters, violations=False)
    return _page(conn, "policy_alerts", where, params, filters)


def prune(conn: Conn, before_ms: int, batch: int) -> int:
    """Delete up to ``batch`` violations and ``batch`` alerts older than ``before_ms``."""
    removed = 0
    with transaction(conn):
        for table in ("policy_violations", "policy_alerts"):
            removed += conn.execute(
                f"DELETE FROM {table} WHERE rowid IN"  # noqa: S608 - fixed table names
                f" (SELECT rowid FROM {table} WHERE at_ms < ? LIMIT ?)", (before_ms, batch),
            ).rowcount
    return removed

