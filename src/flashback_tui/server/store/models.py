"""The models each configuration's provider listed at its last successful validation."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from flashback_tui.server.db import transaction
from flashback_tui.server.store.base import now_iso


class ModelRecord(NamedTuple):
    """One model a provider offers (``created`` as the provider gave it, if it did)."""

    model_id: str
    name: str
    created: int | None
    llm_type: str


def replace_models(conn: sqlite3.Connection, llm_id: str, generation: int,
                   models: list[ModelRecord]) -> bool:
    """Store ``models`` as the configuration's list, if it is still at ``generation``.

    The previous list goes; returns False (and changes nothing) when the configuration is
    gone or changed since the listing was fetched.
    """
    now = now_iso()
    with transaction(conn):
        current = conn.execute("SELECT 1 FROM ai_llms WHERE id = ? AND generation = ?",
                               (llm_id, generation)).fetchone()
        if current is None:
            return False
        conn.execute("DELETE FROM ai_llm_models WHERE ai_llm_id = ?", (llm_id,))
        conn.executemany(
            "INSERT OR REPLACE INTO ai_llm_models (ai_llm_id, model_id, name, created, llm_type,"
            " generation, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(llm_id, m.model_id, m.name, m.created, m.llm_type, generation, now)
             for m in models],
        )
    return True


def models_for_llm(conn: sqlite3.Connection, llm_id: str) -> list[ModelRecord]:
    """The stored model list of a configuration, by model id."""
    rows = conn.execute(
        "SELECT model_id, name, created, llm_type FROM ai_llm_models WHERE ai_llm_id = ?"
        " ORDER BY model_id", (llm_id,),
    ).fetchall()
    return [ModelRecord(r[0], r[1], r[2], r[3]) for r in rows]
