"""The models each configuration offers, as its provider listed them at the last successful
validation (the probe fetches that list anyway), and the models a repository can use.

A list is stored with the configuration generation it was fetched at; once the credentials or
endpoint change (a new generation), the old list no longer counts until the next successful
validation replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flashback_tui.server.sql import Conn, transaction
from flashback_tui.server.store.base import now_iso


@dataclass(frozen=True)
class ModelRecord:
    """One model as a provider listed it.

    ``created`` is the provider's own number if it gave one (OpenAI: Unix seconds);
    ``llm_type`` empty means the configuration's aiType.
    """

    model_id: str
    name: str = ""
    created: int | None = None
    llm_type: str = ""


@dataclass(frozen=True)
class OfferedModel:
    """A model a repository can use through one of its linked configurations."""

    model_id: str
    name: str
    created: int | None
    ai_type: str
    llm_type: str


def replace_models(conn: Conn, llm_id: str, generation: int,
                   models: Iterable[ModelRecord]) -> bool:
    """Make ``models`` the configuration's list, if it is still at ``generation``.

    Returns False (nothing stored) when the configuration is gone or changed since. Runs in
    its own transaction, or in the caller's if one is open. A model id listed twice keeps its
    first entry.
    """
    if conn.in_transaction:
        return _replace(conn, llm_id, generation, models)
    with transaction(conn):
        return _replace(conn, llm_id, generation, models)


def _replace(conn: Conn, llm_id: str, generation: int,
             models: Iterable[ModelRecord]) -> bool:
    current = conn.execute("SELECT 1 FROM ai_llms WHERE id = ? AND generation = ?",
                           (llm_id, generation)).fetchone()
    if current is None:
        return False
    unique: dict[str, ModelRecord] = {}
    for model in models:
        if model.model_id and model.model_id not in unique:
            unique[model.model_id] = model
    now = now_iso()
    conn.execute("DELETE FROM ai_llm_models WHERE ai_llm_id = ?", (llm_id,))
    conn.executemany(
        "INSERT INTO ai_llm_models (ai_llm_id, model_id, name, created, llm_type, generation,"
        " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(llm_id, m.model_id, m.name or m.model_id, m.created, m.llm_type, generation, now)
         for m in unique.values()],
    )
    return True


def models_for_repo(conn: Conn, repo_id: str, ai_type: str | None = None,
                    llm_type: str | None = None) -> list[OfferedModel]:
    """The models of the repository's linked configurations (current lists only), in link
    order then by name; one entry per (aiType, model id). One query."""
    where, params = ["l.repo_id = ?"], [repo_id]
    if ai_type is not None:
        where.append("a.ai_type = ?")
        params.append(ai_type)
    if llm_type is not None:
        where.append("COALESCE(NULLIF(m.llm_type, ''), a.ai_type) = ?")
        params.append(llm_type)
    rows = conn.execute(
        "SELECT m.model_id, m.name, m.created, a.ai_type,"  # noqa: S608
        " COALESCE(NULLIF(m.llm_type, ''), a.ai_type) AS llm_type FROM repo_ai_llms l"
        " JOIN ai_llms a ON a.id = l.ai_llm_id"
        " JOIN ai_llm_models m ON m.ai_llm_id = a.id AND m.generation = a.generation"
        f" WHERE {' AND '.join(where)} ORDER BY l.created_at, l.rowid, m.name, m.model_id",
        params).fetchall()
    seen: set[tuple[str, str]] = set()
    offered = []
    for r in rows:
        if (r["ai_type"], r["model_id"]) in seen:
            continue
        seen.add((r["ai_type"], r["model_id"]))
        offered.append(OfferedModel(model_id=r["model_id"], name=r["name"],
                                    created=r["created"], ai_type=r["ai_type"],
                                    llm_type=r["llm_type"]))
    return offered


def models_for_llm(conn: Conn, llm_id: str) -> list[ModelRecord]:
    """The stored model list of one configuration, by model id."""
    rows = conn.execute(
        "SELECT model_id, name, created, llm_type FROM ai_llm_models WHERE ai_llm_id = ?"
        " ORDER BY model_id", (llm_id,)).fetchall()
    return [ModelRecord(r[0], r[1], r[2], r[3]) for r in rows]
