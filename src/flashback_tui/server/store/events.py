"""The audit trail: one system event per change to a configuration, repository AI key,
repository, workspace, member or user.

:func:`record` writes an event inside the caller's transaction, so a change and its event
are committed together or not at all. An event names the fields that changed
(``{"changed": ["endpoint", "secret"]}``), never a value of a secret or key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from flashback_tui.server.sql import Conn, transaction
from flashback_tui.server.store.base import now_iso

#: ``context`` indexes (the wire names are in ``api.models.EVENT_CONTEXTS``).
WORKSPACE, REPO, USER, WORKSPACE_USER, AI_LLM, AI_LLM_API_KEY = 0, 2, 3, 5, 11, 12
#: ``event`` indexes.
CREATED, UPDATED, DELETED = 0, 1, 2


@dataclass(frozen=True)
class Actor:
    """Who made a change (the signed-in user, or the local admin for ``admin`` commands)."""

    id: str
    org_id: str
    name: str = ""
    email: str = ""


def _local_admin(conn: Conn) -> Actor | None:
    """The org's first OWNER: who ``admin`` commands act as (they run without a user)."""
    row = conn.execute("SELECT id, org_id, name, email FROM users WHERE org_role = 255"
                       " ORDER BY created_at, rowid LIMIT 1").fetchone()
    return Actor(id=row[0], org_id=row[1], name=row[2] or "", email=row[3]) if row else None


def record(conn: Conn, actor: Actor | None, *, context: int, context_id: str,
           event: int, workspace_id: str | None = None,
           changed: Iterable[str] | None = None, org_id: str | None = None) -> None:
    """Add one event; call it inside the transaction that makes the change.

    ``changed`` lists field names (wire names); it is stored as ``{"changed": [...]}``.
    ``actor`` None means an ``admin`` command, which acts as the org's first OWNER.
    """
    data = json.dumps({"changed": sorted(set(changed))}) if changed is not None else None
    actor = actor or _local_admin(conn)
    conn.execute(
        "INSERT INTO system_events (at, org_id, user_id, user_name, user_email, workspace_id,"
        " context, context_id, event, json_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now_iso(), org_id or (actor.org_id if actor else ""), actor.id if actor else "",
         actor.name if actor else "", actor.email if actor else "", workspace_id, context,
         context_id, event, data),
    )


@dataclass(frozen=True)
class EventRecord:
    """One stored event, as read for a caller (``unread``: the caller has not read it)."""

    id: int
    at: str
    org_id: str
    user_id: str
    user_name: str
    user_email: str
    workspace_id: str | None
    context: int
    context_id: str
    event: int
    json_data: str | None
    unread: bool


@dataclass(frozen=True)
class EventFilter:
    """What a caller asks of the audit trail; ``None`` fields do not filter."""

    since: str | None = None
    until: str | None = None
    context_id: str | None = None
    context: int | None = None
    event: int | None = None
    user_id: str | None = None
    workspace_id: str | None = None
    unread_only: bool = False


def _visible(reader_id: str, org_id: str, sees_all: bool) -> tuple[str, list[object]]:
    """The clause for events a reader may see: the whole org for its administrators, else
    events of the workspaces they belong to and their own events outside workspaces."""
    if sees_all:
        return "e.org_id = ?", [org_id]
    return ("e.org_id = ? AND (e.workspace_id IN (SELECT workspace_id FROM memberships"
            " WHERE user_id = ?) OR (e.workspace_id IS NULL AND e.user_id = ?))",
            [org_id, reader_id, reader_id])


def query(conn: Conn, reader_id: str, org_id: str, *, sees_all: bool,
          filters: EventFilter, skip: int, take: int) -> tuple[list[EventRecord], int]:
    """A page of the events the reader may see, newest first, and how many match in all."""
    clause, params = _visible(reader_id, org_id, sees_all)
    where, args = [clause], list(params)
    for column, value in (("e.at >= ?", filters.since), ("e.at <= ?", filters.until),
                          ("e.context_id = ?", filters.context_id),
                          ("e.context = ?", filters.context), ("e.event = ?", filters.event),
                          ("e.user_id = ?", filters.user_id),
                          ("e.workspace_id = ?", filters.workspace_id)):
        if value is not None:
            where.append(column)
            args.append(value)
    unread = ("NOT EXISTS (SELECT 1 FROM system_event_reads r"
              " WHERE r.event_id = e.id AND r.user_id = ?)")
    if filters.unread_only:
        where.append(unread)
        args.append(reader_id)
    sql_where = " AND ".join(where)
    total = conn.execute(f"SELECT COUNT(*) FROM system_events e WHERE {sql_where}",  # noqa: S608
                         args).fetchone()[0]
    rows = conn.execute(
        f"SELECT e.id, e.at, e.org_id, e.user_id, e.user_name, e.user_email, e.workspace_id,"  # noqa: S608
        f" e.context, e.context_id, e.event, e.json_data, {unread} AS unread"
        f" FROM system_events e WHERE {sql_where} ORDER BY e.id DESC LIMIT ? OFFSET ?",
        [reader_id, *args, take, skip],
    ).fetchall()
    return [EventRecord(*tuple(row)[:11], unread=bool(row[11])) for row in rows], total


def mark_read(conn: Conn, reader_id: str, org_id: str, *, sees_all: bool,
              ids: Iterable[int], read: bool) -> int:
    """Mark the given events read (or unread) for the reader; ids it cannot see are skipped.

    Returns how many of the ids the reader may see.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    clause, params = _visible(reader_id, org_id, sees_all)
    marks = ", ".join("?" for _ in wanted)
    with transaction(conn):
        visible = [row[0] for row in conn.execute(
            f"SELECT e.id FROM system_events e WHERE {clause} AND e.id IN ({marks})",  # noqa: S608
            [*params, *wanted])]
        if read:
            conn.executemany("INSERT INTO system_event_reads (event_id, user_id)"
                             " VALUES (?, ?) ON CONFLICT DO NOTHING",
                             [(i, reader_id) for i in visible])
        else:
            conn.executemany("DELETE FROM system_event_reads WHERE event_id = ? AND user_id = ?",
                             [(i, reader_id) for i in visible])
    return len(visible)


def prune(conn: Conn, before_iso: str, batch: int) -> int:
    """Delete up to ``batch`` events older than ``before_iso`` (with their read marks)."""
    with transaction(conn):
        return conn.execute(
            "DELETE FROM system_events WHERE id IN"
            " (SELECT id FROM system_events WHERE at < ? ORDER BY id LIMIT ?)",
            (before_iso, batch),
        ).rowcount

