"""The audit trail: one system event per change to a configuration, repository AI key,
repository, workspace, member or user.

:func:`record` writes an event inside the caller's transaction, so a change and its event
are committed together or not at all. An event names the fields that changed
(``{"changed": ["endpoint", "secret"]}``), never a value of a secret or key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

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


def record(conn: sqlite3.Connection, actor: Actor | None, *, context: int, context_id: str,
           event: int, workspace_id: str | None = None,
           changed: Iterable[str] | None = None, org_id: str | None = None) -> None:
    """Add one event; call it inside the transaction that makes the change.

    ``changed`` lists field names (wire names); it is stored as ``{"changed": [...]}``.
    ``actor`` None means the platform itself (an ``admin`` command without a user).
    """
    data = json.dumps({"changed": sorted(set(changed))}) if changed is not None else None
    conn.execute(
        "INSERT INTO system_events (at, org_id, user_id, user_name, user_email, workspace_id,"
        " context, context_id, event, json_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (now_iso(), org_id or (actor.org_id if actor else ""), actor.id if actor else "",
         actor.name if actor else "", actor.email if actor else "", workspace_id, context,
         context_id, event, data),
    )
