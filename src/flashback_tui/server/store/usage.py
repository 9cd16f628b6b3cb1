"""Usage counters: per-minute buckets, totals per configuration, and the time series.

A ``usage_minute`` row is one minute of one configuration's calls through one repository
key, for one model, host, end user (the chat request's ``user``) and conversation. Its
``active_conversations`` is 1 on the row where the conversation was first written in that
minute for that configuration, repository and key, and 0 on its other rows, so the rows of
a minute add up to the distinct conversations in it.

The daily series groups the same key per day: a daily row is one conversation's use of one
model through one host by one end user, and its ``activeConversations`` is 1 on the row
where the conversation was first written that day (for its configuration, repository and
key), so the day's rows add up to the distinct conversations of the day.

Which write is the first is decided by the database, in the transaction that adds the
counts: ``usage_conversations`` holds one row per (minute or day, configuration, repository,
key, conversation), and the insert that creates it (``ON CONFLICT DO NOTHING`` says whether it
did) is the one that counts the conversation. Replicas writing the same conversation's calls
therefore count it once, and a restart forgets nothing. Counters are added by upserts onto
the stored row, so concurrent writers never lose or double a count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flashback_tui.server.sql import Conn, transaction
from flashback_tui.server.store.base import now_ms

#: Counters of a usage_minute row (AiStatsPoint field names).
MINUTE_COUNTERS = (
    "tokens_in", "tokens_out", "llm_tokens_in", "llm_tokens_out", "active_conversations",
    "api_calls", "policy_violations", "num_alerts", "num_blocks", "num_severity_low",
    "num_severity_medium", "num_severity_high",
)

#: The labels that, with the minute, key a usage_minute row.
BUCKET_LABELS = ("ai_llm_id", "repo_id", "repo_ai_api_key_id", "llm_model", "host", "user_uuid",
                 "conversation_uuid")

#: usage_totals column -> the usage_minute counter that feeds it.
TOTALS_FROM_MINUTE = {
    "api_calls": "api_calls", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
    "llm_tokens_in": "llm_tokens_in", "llm_tokens_out": "llm_tokens_out",
    "policy_violations": "policy_violations", "alerts": "num_alerts", "blocks": "num_blocks",
}

def _bucket_upsert(table: str, time_column: str, *, conversations: str) -> str:
    """Adds counters to one bucket of ``table``; ``conversations`` merges that counter.

    Parameters: the time, the BUCKET_LABELS, the MINUTE_COUNTERS in order, latency_ms_total,
    llm_type. The stored row is named by its table (PostgreSQL requires it).
    """
    added = [c for c in MINUTE_COUNTERS if c != "active_conversations"]
    return (
        f"INSERT INTO {table}"  # noqa: S608 - fixed column names only
        f" ({time_column}, {', '.join(BUCKET_LABELS)}, {', '.join(MINUTE_COUNTERS)},"
        " latency_ms_total, llm_type)"
        f" VALUES (?, {', '.join('?' for _ in BUCKET_LABELS)},"
        f" {', '.join('?' for _ in MINUTE_COUNTERS)}, ?, ?)"
        f" ON CONFLICT (ai_llm_id, {time_column}, repo_id, repo_ai_api_key_id, llm_model, host,"
        " user_uuid, conversation_uuid) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
        + f", active_conversations = {conversations.format(table=table)},"
        f" latency_ms_total = {table}.latency_ms_total + excluded.latency_ms_total,"
        " llm_type = CASE WHEN excluded.llm_type != '' THEN excluded.llm_type"
        f" ELSE {table}.llm_type END"
    )


#: Adds counters to a minute bucket (see :func:`_bucket_upsert`).
USAGE_MINUTE_UPSERT = _bucket_upsert(
    "usage_minute", "minute",
    conversations="{table}.active_conversations + excluded.active_conversations")
#: Adds counters to a day bucket (``usage_daily``, kept for ever), the day in place of the
#: minute. A conversation counts once a day.
USAGE_DAILY_UPSERT = _bucket_upsert(
    "usage_daily", "day",
    conversations="CASE WHEN excluded.active_conversations > {table}.active_conversations"
                  " THEN excluded.active_conversations ELSE {table}.active_conversations END")

#: Adds the same counters to a configuration's totals. Parameters: ai_llm_id, then the
#: minute counters named by TOTALS_FROM_MINUTE's values, in its order.
USAGE_TOTALS_UPSERT = (
    f"INSERT INTO usage_totals (ai_llm_id, {', '.join(TOTALS_FROM_MINUTE)})"  # noqa: S608
    f" VALUES (?, {', '.join('?' for _ in TOTALS_FROM_MINUTE)}) ON CONFLICT (ai_llm_id)"
    " DO UPDATE SET " + ", ".join(f"{c} = usage_totals.{c} + excluded.{c}"
                                  for c in TOTALS_FROM_MINUTE)
)

#: Remembers a conversation in a minute or a day (span_ms); a row count of 1 means it is new.
CONVERSATION_SEEN = (
    "INSERT INTO usage_conversations (span_ms, period, ai_llm_id, repo_id, repo_ai_api_key_id,"
    " conversation_uuid) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)

MINUTE_MS = 60_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class BucketKey:
    """One per-minute bucket: minute start (Unix ms) and the labels of ``BUCKET_LABELS``."""

    minute: int
    ai_llm_id: str
    repo_id: str = ""
    repo_ai_api_key_id: str = ""
    llm_model: str = ""
    host: str = ""
    user_uuid: str = ""
    conversation_uuid: str = ""

    def labels(self) -> tuple[str, ...]:
        """The values of ``BUCKET_LABELS``, in order."""
        return (self.ai_llm_id, self.repo_id, self.repo_ai_api_key_id, self.llm_model,
                self.host, self.user_uuid, self.conversation_uuid)


@dataclass
class BucketCounts:
    """The counters of one bucket (names of ``MINUTE_COUNTERS``), latency and provider type.

    ``conversation`` True: the bucket's calls belong to its ``conversation_uuid``, and
    :func:`write_buckets` sets ``active_conversations`` by asking the database whether that
    conversation is new in the minute and in the day. False: the counter is written as given.
    """

    counters: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(MINUTE_COUNTERS, 0))
    latency_ms_total: float = 0.0
    llm_type: str = ""
    conversation: bool = False

    def merge(self, other: BucketCounts) -> None:
        """Add ``other`` into this bucket (the newest non-empty provider type wins)."""
        for name, value in other.counters.items():
            self.counters[name] += value
        self.latency_ms_total += other.latency_ms_total
        self.llm_type = other.llm_type or self.llm_type
        self.conversation = self.conversation or other.conversation


def record_usage(
    conn: Conn,
    ai_llm_id: str,
    *,
    at_ms: int | None = None,
    repo_id: str | None = None,
    repo_ai_api_key_id: str | None = None,
    latency_ms: float = 0.0,
    llm_type: str | None = None,
    llm_model: str | None = None,
    host: str | None = None,
    user_uuid: str | None = None,
    conversation_uuid: str | None = None,
    **counters: int,
) -> None:
    """Add one call's (or a batch's) counters to its minute bucket and to the totals."""
    unknown = set(counters) - set(MINUTE_COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    at = now_ms() if at_ms is None else at_ms
    key = BucketKey(at - at % MINUTE_MS, ai_llm_id, repo_id or "", repo_ai_api_key_id or "",
                    llm_model or "", host or "", user_uuid or "", conversation_uuid or "")
    counts = BucketCounts(latency_ms_total=latency_ms, llm_type=llm_type or "")
    for name in MINUTE_COUNTERS:
        counts.counters[name] = int(counters.get(name, 0))
    write_buckets(conn, {key: counts})


def write_buckets(conn: Conn, buckets: Mapping[BucketKey, BucketCounts]) -> None:
    """Upsert every bucket and bump the configurations' totals, in one transaction."""
    if not buckets:
        return
    with transaction(conn):
        ids = sorted({key.ai_llm_id for key in buckets})
        live = {r[0] for r in conn.execute(
            f"SELECT id FROM ai_llms WHERE id IN ({', '.join('?' for _ in ids)})",  # noqa: S608
            ids)}
        for key, counts in buckets.items():
            if key.ai_llm_id not in live:  # deleted meanwhile: nothing left to count it on
                continue
            day = key.minute - key.minute % DAY_MS
            in_minute = in_day = counts.counters["active_conversations"]
            if counts.conversation and key.conversation_uuid:
                in_minute = _first_seen(conn, key, MINUTE_MS, key.minute)
                in_day = _first_seen(conn, key, DAY_MS, day)
            conn.execute(USAGE_MINUTE_UPSERT, (key.minute, *_row(key, counts, in_minute)))
            conn.execute(USAGE_DAILY_UPSERT, (day, *_row(key, counts, in_day)))
            conn.execute(USAGE_TOTALS_UPSERT, (
                key.ai_llm_id, *(counts.counters[src] for src in TOTALS_FROM_MINUTE.values()),
            ))


def _row(key: BucketKey, counts: BucketCounts, conversations: int) -> tuple[object, ...]:
    """A bucket upsert's parameters after the time: labels, counters, latency, type."""
    values = {**counts.counters, "active_conversations": conversations}
    return (*key.labels(), *(values[c] for c in MINUTE_COUNTERS), counts.latency_ms_total,
            counts.llm_type)


def _first_seen(conn: Conn, key: BucketKey, span_ms: int, period: int) -> int:
    """1 if the bucket's conversation is new in ``period`` (a minute or a day), else 0."""
    return conn.execute(CONVERSATION_SEEN, (
        span_ms, period, key.ai_llm_id, key.repo_id, key.repo_ai_api_key_id,
        key.conversation_uuid)).rowcount


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
            sql.append(f" AND u.{column} IN ({', '.join('?' for _ in values) or 'NULL'})")
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


#: How long ``usage_conversations`` remembers a conversation after its minute or day began
#: (span -> ms): long enough for every count still pending for that minute or day.
CONVERSATION_MEMORY_MS = {MINUTE_MS: 3_600_000, DAY_MS: 2 * DAY_MS}

_CONVERSATION_KEY = "span_ms, period, ai_llm_id, repo_id, repo_ai_api_key_id, conversation_uuid"


def prune_conversations(conn: Conn, span_ms: int, before_ms: int, batch: int) -> int:
    """Forget up to ``batch`` conversations of ``span_ms`` periods begun before ``before_ms``;
    how many went."""
    with transaction(conn):
        return conn.execute(
            f"DELETE FROM usage_conversations WHERE ({_CONVERSATION_KEY}) IN"  # noqa: S608
            f" (SELECT {_CONVERSATION_KEY} FROM usage_conversations"
            " WHERE span_ms = ? AND period < ? LIMIT ?)", (span_ms, before_ms, batch),
        ).rowcount


def prune_minutes(conn: Conn, before_ms: int, batch: int) -> int:
    """Delete up to ``batch`` per-minute rows older than ``before_ms``; how many went.

    Daily rows and totals are kept for ever, so nothing the daily series shows is lost.
    """
    with transaction(conn):
        return conn.execute(
            "DELETE FROM usage_minute WHERE rowid IN"
            " (SELECT rowid FROM usage_minute WHERE minute < ? LIMIT ?)", (before_ms, batch),
        ).rowcount
