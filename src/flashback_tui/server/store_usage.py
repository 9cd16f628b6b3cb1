"""SQL that adds a batch of gateway usage to the per-minute buckets and the totals.

One transaction per batch: every bucket of the batch lands in ``usage_minute`` and in
``usage_totals`` (which ``GET /ai/llm/stats`` reads), or none does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from flashback_tui.server import store
from flashback_tui.server.db import transaction


@dataclass(frozen=True)
class BucketKey:
    """One per-minute bucket: minute start (Unix ms), configuration, repository and key."""

    minute: int
    ai_llm_id: str
    repo_id: str
    repo_ai_api_key_id: str


@dataclass
class BucketCounts:
    """The counters of one bucket (names of ``store.MINUTE_COUNTERS``) plus latency."""

    counters: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(store.MINUTE_COUNTERS, 0))
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
    counters = store.MINUTE_COUNTERS
    totals = store.TOTALS_FROM_MINUTE
    with transaction(conn):
        ids = sorted({key.ai_llm_id for key in buckets})
        live = {r[0] for r in conn.execute(
            f"SELECT id FROM ai_llms WHERE id IN ({', '.join('?' for _ in ids)})",  # noqa: S608
            ids)}
        for key, counts in buckets.items():
            if key.ai_llm_id not in live:  # deleted meanwhile: nothing left to count it on
                continue
            conn.execute(store.USAGE_MINUTE_UPSERT, (
                key.minute, key.ai_llm_id, key.repo_id, key.repo_ai_api_key_id,
                *(counts.counters[c] for c in counters), counts.latency_ms_total,
                counts.llm_type, counts.llm_model, counts.host,
            ))
            conn.execute(store.USAGE_TOTALS_UPSERT, (
                key.ai_llm_id, *(counts.counters[src] for src in totals.values()),
            ))
