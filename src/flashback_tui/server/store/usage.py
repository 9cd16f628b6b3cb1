"""Usage counters: reading the totals per configuration and the time series, and pruning.

Buckets are written by :mod:`.usage_buckets` (its names used across the package are also
importable from here): a ``usage_minute`` row per minute, configuration, repository key,
model, host, end user and conversation, a ``usage_daily`` row per day likewise (kept for
ever), and ``usage_totals`` per configuration. A minute's (or a day's) rows add up to its
distinct conversations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from flashback_tui.server.sql import Conn, marks, transaction
from flashback_tui.server.store.usage_buckets import (
    BUCKET_LABELS,
    DAY_MS,
    MINUTE_COUNTERS,
    MINUTE_MS,
    BucketCounts,
    BucketKey,
    record_usage,
    write_buckets,
)

__all__ = [
    "BUCKET_LABELS", "DAY_MS", "MINUTE_COUNTERS", "MINUTE_MS", "BucketCounts", "BucketKey",
    "StatsTotals", "UsageFilter", "UsagePoint", "prune_minutes", "record_usage",
    "stats_totals", "usage_points", "write_buckets",
]


class StatsTotals(NamedTuple):
    """Usage totals of one configuration since it was created."""

    ai_llm_id: str
    api_calls: int
    tokens_in: int
    tokens_out: int
    llm_tokens_in: int
    llm_tokens_out: int
    policy_violations: int
    alerts: int
    blocks: int


def stats_totals(conn: Conn, user_id: str, llm_id: str | None = None
                 ) -> list[StatsTotals]:
    """Usage totals of every configuration the user can see (or just ``llm_id``)."""
    params: list[Any] = [user_id]
    extra = ""
    if llm_id is not None:
        extra = " AND a.id = ?"
        params.append(llm_id)
    rows = conn.execute(
        "SELECT a.id, t.api_calls, t.tokens_in, t.tokens_out, t.llm_tokens_in,"  # noqa: S608
        " t.llm_tokens_out, t.policy_violations, t.alerts, t.blocks FROM ai_llms a"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        " LEFT JOIN usage_totals t ON t.ai_llm_id = a.id"
        f" WHERE m.user_id = ?{extra} ORDER BY a.created_at DESC, a.rowid DESC",
        params,
    ).fetchall()
    return [StatsTotals(r[0], *(value or 0 for value in tuple(r)[1:])) for r in rows]


@dataclass(frozen=True)
class UsageFilter:
    """What a time series keeps: each set field is a list of accepted values (CSV filters)."""

    repo_ids: Sequence[str] | None = None
    llm_ids: Sequence[str] | None = None
    key_ids: Sequence[str] | None = None
    hosts: Sequence[str] | None = None
    llm_types: Sequence[str] | None = None
    llm_models: Sequence[str] | None = None
    user_uuids: Sequence[str] | None = None
    conversation_uuids: Sequence[str] | None = None

    def clauses(self) -> tuple[str, list[str]]:
        """SQL conditions on ``usage_minute u`` (``" AND ..."``) and their parameters."""
        columns = {"repo_ids": "repo_id", "llm_ids": "ai_llm_id", "key_ids": "repo_ai_api_key_id",
                   "hosts": "host", "llm_types": "llm_type", "llm_models": "llm_model",
                   "user_uuids": "user_uuid", "conversation_uuids": "conversation_uuid"}
        sql, params = [], []
        for name, column in columns.items():
            values = getattr(self, name)
            if values is None:
                continue
            sql.append(f" AND u.{column} IN ({marks(values)})")
            params.extend(values)
        return "".join(sql), params


class UsagePoint(NamedTuple):
    """One bucket of a time series (``timestamp`` in Unix ms, ``latency_ms`` per call)."""

    timestamp: int
    ai_llm_id: str
    repo_id: str
    repo_ai_api_key_id: str
    llm_model: str
    host: str
    user_uuid: str
    conversation_uuid: str
    llm_type: str
    counters: dict[str, int]
    latency_ms: float


def usage_points(
    conn: Conn,
    user_id: str,
    *,
    start_ms: int,
    end_ms: int,
    where: UsageFilter | None = None,
    bucket_ms: int = MINUTE_MS,
) -> list[UsagePoint]:
    """Usage buckets in ``[start_ms, end_ms)`` of configurations the user can see.

    ``bucket_ms`` of a minute returns the stored minute rows (kept for the retention time);
    a day returns the daily rows (kept for ever), any other width sums minutes.
    """
    extra, filter_params = (where or UsageFilter()).clauses()
    table, time_column = ("usage_daily", "day") if bucket_ms == DAY_MS else (
        "usage_minute", "minute")
    labels = ", ".join(f"u.{label}" for label in BUCKET_LABELS)
    sums = ", ".join(f"{'MAX' if c == 'active_conversations' else 'SUM'}(u.{c})"
                     for c in MINUTE_COUNTERS)
    rows = conn.execute(
        f"SELECT (u.{time_column} / ?) * ? AS bucket, {labels}, MAX(u.llm_type), {sums},"  # noqa: S608
        " SUM(u.latency_ms_total)"
        f" FROM {table} u JOIN ai_llms a ON a.id = u.ai_llm_id"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE m.user_id = ? AND u.{time_column} >= ? AND u.{time_column} < ?{extra}"
        f" GROUP BY bucket, {labels} ORDER BY bucket, {labels}",
        [bucket_ms, bucket_ms, user_id, start_ms, end_ms, *filter_params],
    ).fetchall()
    points = []
    width = len(BUCKET_LABELS)
    for r in rows:
        values = tuple(r)
        counters = dict(zip(MINUTE_COUNTERS, (v or 0 for v in values[width + 2:-1]), strict=True))
        calls = counters["api_calls"]
        points.append(UsagePoint(values[0], *values[1:width + 1], values[width + 1] or "",
                                 counters, (values[-1] / calls) if calls else 0.0))
    return points


def prune_minutes(conn: Conn, before_ms: int, batch: int) -> int:
    """Delete up to ``batch`` per-minute rows older than ``before_ms``; how many went.

    Daily rows and totals are kept for ever, so nothing the daily series shows is lost.
    """
    with transaction(conn):
        return conn.execute(
            "DELETE FROM usage_minute WHERE rowid IN"
            " (SELECT rowid FROM usage_minute WHERE minute < ? LIMIT ?)", (before_ms, batch),
        ).rowcount
