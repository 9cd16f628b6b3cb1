"""Writing usage: per-minute and per-day buckets, the conversations they count, the totals.

A ``usage_minute`` row is one minute of one configuration's calls through one repository
key, for one model, host, end user (the chat request's ``user``) and conversation. Its
``active_conversations`` is 1 on the row where the conversation was first written in that
minute for that configuration, repository and key, and 0 on its other rows, so the rows of
a minute add up to the distinct conversations in it. A ``usage_daily`` row is the same per
day, its ``active_conversations`` 1 on the row where the conversation was first written that
day, so a day's rows add up to the distinct conversations of the day.

Which write is the first is decided by the database, in the transaction that adds the
counts: ``usage_conversations`` holds one row per (minute or day, configuration, repository,
key, conversation), and the insert that creates it (``ON CONFLICT DO NOTHING ... RETURNING``
names the rows it created) is the one that counts the conversation. Replicas writing the
same conversation's calls therefore count it once, and a restart forgets nothing.

:func:`write_buckets` writes a whole batch in one transaction of a fixed number of
statements, each a multi-row upsert: conversations, minute rows, day rows, totals. Every
counter is added onto the stored row (``SET n = usage_minute.n + excluded.n``), so the
upserts are atomic row by row and the transaction needs no global write lock: on PostgreSQL
it does not queue behind the other writers (``transaction(serialized=False)``), and the
replicas' flushes run side by side. Each statement writes its rows in key order, and the
totals (whose trigger bumps the one-row usage counter) come last, in one statement, so two
flushes lock rows in the same order and do not deadlock. (Should PostgreSQL ever find a
deadlock, it aborts one transaction: rolled back whole, its batch is written again.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

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

MINUTE_MS = 60_000
DAY_MS = 86_400_000

#: Rows per statement at most (far below the bound-parameter limits of both databases).
ROWS_PER_STATEMENT = 200
#: Totals rows per statement at most: one statement for any batch there is (see above).
TOTALS_PER_STATEMENT = 3000

#: How ``active_conversations`` merges into a stored row: minutes add, a day keeps its 1.
_CONVERSATIONS_MERGE = {
    "usage_minute": "usage_minute.active_conversations + excluded.active_conversations",
    "usage_daily": "CASE WHEN excluded.active_conversations > usage_daily.active_conversations"
                   " THEN excluded.active_conversations ELSE usage_daily.active_conversations"
                   " END",
}
_CONVERSATION_COLUMNS = ("span_ms", "period", "ai_llm_id", "repo_id", "repo_ai_api_key_id",
                         "conversation_uuid")


def _values(rows: int, width: int) -> str:
    """``(?, ?), (?, ?)`` for ``rows`` rows of ``width`` values."""
    row = f"({', '.join('?' * width)})"
    return ", ".join([row] * rows)


@lru_cache(maxsize=64)
def _bucket_upsert(table: str, time_column: str, rows: int) -> str:
    """Adds counters to ``rows`` buckets of ``table`` (each row: the time, the BUCKET_LABELS,
    the MINUTE_COUNTERS, latency_ms_total, llm_type); the stored row named by its table."""
    added = [c for c in MINUTE_COUNTERS if c != "active_conversations"]
    columns = (time_column, *BUCKET_LABELS, *MINUTE_COUNTERS, "latency_ms_total", "llm_type")
    return (
        f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 - fixed column names only
        f" VALUES {_values(rows, len(columns))}"
        f" ON CONFLICT (ai_llm_id, {time_column}, repo_id, repo_ai_api_key_id, llm_model, host,"
        " user_uuid, conversation_uuid) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
        + f", active_conversations = {_CONVERSATIONS_MERGE[table]},"
        f" latency_ms_total = {table}.latency_ms_total + excluded.latency_ms_total,"
        " llm_type = CASE WHEN excluded.llm_type != '' THEN excluded.llm_type"
        f" ELSE {table}.llm_type END"
    )


@lru_cache(maxsize=16)
def _totals_upsert(rows: int) -> str:
    """Adds counters to ``rows`` configurations' totals (each row: ai_llm_id, then the
    counters named by TOTALS_FROM_MINUTE's values, in its order)."""
    return (
        f"INSERT INTO usage_totals (ai_llm_id, {', '.join(TOTALS_FROM_MINUTE)})"  # noqa: S608
        f" VALUES {_values(rows, 1 + len(TOTALS_FROM_MINUTE))} ON CONFLICT (ai_llm_id)"
        " DO UPDATE SET " + ", ".join(f"{c} = usage_totals.{c} + excluded.{c}"
                                      for c in TOTALS_FROM_MINUTE)
    )


@lru_cache(maxsize=16)
def _conversations_insert(rows: int) -> str:
    columns = ", ".join(_CONVERSATION_COLUMNS)
    return (f"INSERT INTO usage_conversations ({columns})"  # noqa: S608
            f" VALUES {_values(rows, len(_CONVERSATION_COLUMNS))}"
            f" ON CONFLICT DO NOTHING RETURNING {columns}")


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

    def conversation_in(self, span_ms: int) -> tuple[int, int, str, str, str, str]:
        """The ``usage_conversations`` row of this bucket's conversation in its minute
        (``span_ms`` a minute) or its day."""
        return (span_ms, self.minute - self.minute % span_ms, self.ai_llm_id, self.repo_id,
                self.repo_ai_api_key_id, self.conversation_uuid)


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


def _chunks(rows: Sequence[tuple[object, ...]], size: int
            ) -> Iterator[Sequence[tuple[object, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _run_rows(conn: Conn, statement: Callable[[int], str], rows: Sequence[tuple[object, ...]],
              size: int = ROWS_PER_STATEMENT) -> list[tuple[object, ...]]:
    """Run ``statement(n)`` (SQL for n rows) over ``rows``, ``size`` rows at a time; the
    rows the statements returned."""
    returned: list[tuple[object, ...]] = []
    for chunk in _chunks(rows, size):
        cursor = conn.execute(statement(len(chunk)), [value for row in chunk for value in row])
        returned.extend(cursor.fetchall())
    return returned


def remember_conversations(conn: Conn, rows: Iterable[tuple[int, int, str, str, str, str]]
                           ) -> set[tuple[object, ...]]:
    """Store ``usage_conversations`` rows (span, period, configuration, repository, key,
    conversation); the ones that were not stored before."""
    ordered = sorted(set(rows))
    return {tuple(row) for row in _run_rows(conn, _conversations_insert, ordered)}


def write_buckets(conn: Conn, buckets: Mapping[BucketKey, BucketCounts]) -> None:
    """Upsert every bucket and bump the configurations' totals, in one transaction."""
    if not buckets:
        return
    with transaction(conn, serialized=False):
        ids = sorted({key.ai_llm_id for key in buckets})
        live = {r[0] for r in conn.execute(
            f"SELECT id FROM ai_llms WHERE id IN ({', '.join('?' for _ in ids)})",  # noqa: S608
            ids)}
        # Deleted meanwhile: nothing left to count them on.
        batch = sorted(((key, counts) for key, counts in buckets.items()
                        if key.ai_llm_id in live), key=lambda item: _order(item[0]))
        if not batch:
            return
        minutes, days, totals = _rows(batch, _new_conversations(conn, batch))
        _run_rows(conn, lambda n: _bucket_upsert("usage_minute", "minute", n), minutes)
        _run_rows(conn, lambda n: _bucket_upsert("usage_daily", "day", n), days)
        _run_rows(conn, _totals_upsert, totals, TOTALS_PER_STATEMENT)


def _order(key: BucketKey) -> tuple[object, ...]:
    """The order of a table's primary key (ai_llm_id first), in which rows are written."""
    return (key.ai_llm_id, key.minute, *key.labels()[1:])


def _new_conversations(conn: Conn, batch: Sequence[tuple[BucketKey, BucketCounts]]
                       ) -> set[tuple[object, ...]]:
    """The minutes and days of the batch in which its conversations are new."""
    return remember_conversations(conn, (
        key.conversation_in(span) for key, counts in batch
        if counts.conversation and key.conversation_uuid for span in (MINUTE_MS, DAY_MS)))


def _rows(batch: Sequence[tuple[BucketKey, BucketCounts]], new: set[tuple[object, ...]]
          ) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]],
                     list[tuple[object, ...]]]:
    """The minute rows, day rows (the batch's buckets merged per day) and totals rows.

    A conversation new in a minute (or day) counts on the first of its buckets there.
    """
    minutes: list[tuple[object, ...]] = []
    days: dict[tuple[object, ...], tuple[BucketCounts, int]] = {}
    totals: dict[str, list[int]] = {}
    credited: set[tuple[object, ...]] = set()
    for key, counts in batch:
        in_minute = in_day = counts.counters["active_conversations"]
        if counts.conversation and key.conversation_uuid:
            in_minute = _credit(key.conversation_in(MINUTE_MS), new, credited)
            in_day = _credit(key.conversation_in(DAY_MS), new, credited)
        minutes.append((key.minute, *_values_of(key.labels(), counts, in_minute)))
        day_key = (key.ai_llm_id, key.minute - key.minute % DAY_MS, *key.labels()[1:])
        merged, active = days.get(day_key, (BucketCounts(), 0))
        merged.merge(counts)
        days[day_key] = (merged, max(active, in_day))
        total = totals.setdefault(key.ai_llm_id, [0] * len(TOTALS_FROM_MINUTE))
        for i, source in enumerate(TOTALS_FROM_MINUTE.values()):
            total[i] += counts.counters[source]
    day_rows = [(day_key[1], *_values_of((day_key[0], *day_key[2:]), merged, active))
                for day_key, (merged, active) in sorted(days.items(), key=lambda d: d[0])]
    return minutes, day_rows, [(llm, *total) for llm, total in sorted(totals.items())]


def _credit(row: tuple[object, ...], new: set[tuple[object, ...]],
            credited: set[tuple[object, ...]]) -> int:
    """1 for the first bucket of a conversation new in its minute or day, else 0."""
    if row in new and row not in credited:
        credited.add(row)
        return 1
    return 0


def _values_of(labels: Sequence[object], counts: BucketCounts, conversations: int
               ) -> tuple[object, ...]:
    """A bucket row's values after the time: labels, counters, latency, provider type."""
    values = {**counts.counters, "active_conversations": conversations}
    return (*labels, *(values[c] for c in MINUTE_COUNTERS), counts.latency_ms_total,
            counts.llm_type)


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


#: How long ``usage_conversations`` remembers a conversation after its minute or day began
#: (span -> ms): long enough for every count still pending for that minute or day.
CONVERSATION_MEMORY_MS = {MINUTE_MS: 3_600_000, DAY_MS: 2 * DAY_MS}


def prune_conversations(conn: Conn, span_ms: int, before_ms: int, batch: int) -> int:
    """Forget up to ``batch`` conversations of ``span_ms`` periods begun before ``before_ms``;
    how many went."""
    columns = ", ".join(_CONVERSATION_COLUMNS)
    with transaction(conn):
        return conn.execute(
            f"DELETE FROM usage_conversations WHERE ({columns}) IN"  # noqa: S608
            f" (SELECT {columns} FROM usage_conversations"
            " WHERE span_ms = ? AND period < ? LIMIT ?)", (span_ms, before_ms, batch),
        ).rowcount
