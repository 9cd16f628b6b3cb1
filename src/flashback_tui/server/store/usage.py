"""Usage counters: per-minute buckets, totals per configuration, and the time series."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from flashback_tui.api.models import (
    AiLlm,
    AiLlmStats,
    AiStatsPoint,
)
from flashback_tui.server.db import transaction
from flashback_tui.server.store.base import now_ms

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])


#: Counters of a usage_minute row, as AiStatsPoint field names.
MINUTE_COUNTERS = (
    "tokens_in", "tokens_out", "llm_tokens_in", "llm_tokens_out", "active_conversations",
    "api_calls", "policy_violations", "num_alerts", "num_blocks", "num_severity_low",
    "num_severity_medium", "num_severity_high",
)

#: usage_totals column -> the usage_minute counter that feeds it.
TOTALS_FROM_MINUTE = {
    "api_calls": "api_calls", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
    "llm_tokens_in": "llm_tokens_in", "llm_tokens_out": "llm_tokens_out",
    "policy_violations": "policy_violations", "alerts": "num_alerts", "blocks": "num_blocks",
}

#: Adds one call's (or one batch's) counters to a minute bucket. Parameters: minute,
#: ai_llm_id, repo_id, repo_ai_api_key_id, the MINUTE_COUNTERS in order, latency_ms_total,
#: llm_type, llm_model, host.
USAGE_MINUTE_UPSERT = (
    "INSERT INTO usage_minute"  # noqa: S608 - fixed column names only
    f" (minute, ai_llm_id, repo_id, repo_ai_api_key_id, {', '.join(MINUTE_COUNTERS)},"
    f" latency_ms_total, llm_type, llm_model, host)"
    f" VALUES (?, ?, ?, ?, {', '.join('?' for _ in MINUTE_COUNTERS)}, ?, ?, ?, ?)"
    " ON CONFLICT (ai_llm_id, minute, repo_id, repo_ai_api_key_id) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in MINUTE_COUNTERS)
    + ", latency_ms_total = latency_ms_total + excluded.latency_ms_total,"
    " llm_type = COALESCE(excluded.llm_type, llm_type),"
    " llm_model = COALESCE(excluded.llm_model, llm_model),"
    " host = COALESCE(excluded.host, host)"
)

#: Adds the same counters to a configuration's totals. Parameters: ai_llm_id, then the
#: minute counters named by TOTALS_FROM_MINUTE's values, in its order.
USAGE_TOTALS_UPSERT = (
    f"INSERT INTO usage_totals (ai_llm_id, {', '.join(TOTALS_FROM_MINUTE)})"  # noqa: S608
    f" VALUES (?, {', '.join('?' for _ in TOTALS_FROM_MINUTE)}) ON CONFLICT (ai_llm_id)"
    " DO UPDATE SET " + ", ".join(f"{c} = {c} + excluded.{c}" for c in TOTALS_FROM_MINUTE)
)

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def record_usage(
    conn: sqlite3.Connection,
    ai_llm_id: str,
    *,
    at_ms: int | None = None,
    repo_id: str | None = None,
    repo_ai_api_key_id: str | None = None,
    latency_ms: float = 0.0,
    llm_type: str | None = None,
    llm_model: str | None = None,
    host: str | None = None,
    **counters: int,
) -> None:
    """Add one call's counters to its minute bucket and to the configuration's totals."""
    unknown = set(counters) - set(MINUTE_COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    minute = ((now_ms() if at_ms is None else at_ms) // MINUTE_MS) * MINUTE_MS
    values = {name: int(counters.get(name, 0)) for name in MINUTE_COUNTERS}
    with transaction(conn):
        conn.execute(USAGE_MINUTE_UPSERT, (
            minute, ai_llm_id, repo_id or "", repo_ai_api_key_id or "", *values.values(),
            latency_ms, llm_type, llm_model, host,
        ))
        conn.execute(USAGE_TOTALS_UPSERT,
                     (ai_llm_id, *(values[src] for src in TOTALS_FROM_MINUTE.values())))


def stats_totals(conn: sqlite3.Connection, user_id: str, llm_id: str | None = None
                 ) -> list[AiLlmStats]:
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
    return _STATS_LIST.validate_python([
        {
            "aiLlmId": r["id"],
            "totalApiCalls": r["api_calls"] or 0,
            "totalTokensIn": r["tokens_in"] or 0,
            "totalTokensOut": r["tokens_out"] or 0,
            "totalLlmTokensIn": r["llm_tokens_in"] or 0,
            "totalLlmTokensOut": r["llm_tokens_out"] or 0,
            "totalPolicyViolations": r["policy_violations"] or 0,
            "totalAlerts": r["alerts"] or 0,
            "totalBlocks": r["blocks"] or 0,
        }
        for r in rows
    ])


def usage_points(
    conn: sqlite3.Connection,
    user_id: str,
    *,
    start_ms: int,
    end_ms: int,
    llm_ids: Iterable[str] | None = None,
    bucket_ms: int = MINUTE_MS,
) -> list[AiStatsPoint]:
    """Usage buckets in ``[start_ms, end_ms)`` of configurations the user can see.

    ``bucket_ms`` of a minute returns the stored rows; a day sums minutes per day, per
    configuration, repository and key, except ``active_conversations``: the busiest minute's
    (distinct conversations do not add up across minutes). ``latency_ms`` is the mean per call.
    """
    params: list[Any] = [bucket_ms, bucket_ms, user_id, start_ms, end_ms]
    extra = ""
    ids = list(llm_ids) if llm_ids is not None else None
    if ids is not None:
        if not ids:
            return []
        extra = f" AND u.ai_llm_id IN ({', '.join('?' for _ in ids)})"
        params.extend(ids)
    sums = ", ".join(f"{'MAX' if c == 'active_conversations' else 'SUM'}(u.{c}) AS {c}"
                     for c in MINUTE_COUNTERS)
    rows = conn.execute(
        f"SELECT (u.minute / ?) * ? AS bucket, u.ai_llm_id, u.repo_id, u.repo_ai_api_key_id,"  # noqa: S608
        f" {sums}, SUM(u.latency_ms_total) AS latency_total, MAX(u.llm_type) AS llm_type,"
        " MAX(u.llm_model) AS llm_model, MAX(u.host) AS host"
        " FROM usage_minute u JOIN ai_llms a ON a.id = u.ai_llm_id"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE m.user_id = ? AND u.minute >= ? AND u.minute < ?{extra}"
        " GROUP BY bucket, u.ai_llm_id, u.repo_id, u.repo_ai_api_key_id"
        " ORDER BY bucket, u.ai_llm_id",
        params,
    ).fetchall()
    points = []
    for r in rows:
        calls = r["api_calls"] or 0
        points.append(AiStatsPoint(
            timestamp=r["bucket"],
            repo_id=r["repo_id"] or None,
            ai_llm_id=r["ai_llm_id"],
            repo_ai_api_key_id=r["repo_ai_api_key_id"] or None,
            latency_ms=(r["latency_total"] / calls) if calls else 0.0,
            llm_type=r["llm_type"],
            llm_model=r["llm_model"],
            host=r["host"],
            **{c: r[c] or 0 for c in MINUTE_COUNTERS},
        ))
    return points


@dataclass(frozen=True)
class BucketKey:
    """One per-minute bucket: minute start (Unix ms), configuration, repository and key."""

    minute: int
    ai_llm_id: str
    repo_id: str
    repo_ai_api_key_id: str


@dataclass
class BucketCounts:
    """The counters of one bucket (names of ``MINUTE_COUNTERS``) plus latency."""

    counters: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(MINUTE_COUNTERS, 0))
    latency_ms_total: float = 0.0
    llm_type: str | None = None
    llm_model: str | None = None
    host: str | None = None

    def merge(self, other: BucketCounts) -> None:
        """Add ``other`` into this bucket (labels: the newest non-empty one wins)."""
        for name, value in other.counters.items():
            self.counters[name] += value
        self.latency_ms_total += other.latency_ms_total
        self.llm_type = other.llm_type or self.llm_type
        self.llm_model = other.llm_model or self.llm_model
        self.host = other.host or self.host


def write_buckets(conn: sqlite3.Connection, buckets: Mapping[BucketKey, BucketCounts]) -> None:
    """Upsert every bucket and bump the configurations' totals, in one transaction."""
    if not buckets:
        return
    counters = MINUTE_COUNTERS
    totals = TOTALS_FROM_MINUTE
    with transaction(conn):
        ids = sorted({key.ai_llm_id for key in buckets})
        live = {r[0] for r in conn.execute(
            f"SELECT id FROM ai_llms WHERE id IN ({', '.join('?' for _ in ids)})",  # noqa: S608
            ids)}
        for key, counts in buckets.items():
            if key.ai_llm_id not in live:  # deleted meanwhile: nothing left to count it on
                continue
            conn.execute(USAGE_MINUTE_UPSERT, (
                key.minute, key.ai_llm_id, key.repo_id, key.repo_ai_api_key_id,
                *(counts.counters[c] for c in counters), counts.latency_ms_total,
                counts.llm_type, counts.llm_model, counts.host,
            ))
            conn.execute(USAGE_TOTALS_UPSERT, (
                key.ai_llm_id, *(counts.counters[src] for src in totals.values()),
            ))
