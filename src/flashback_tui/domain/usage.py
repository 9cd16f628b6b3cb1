"""Usage counters and the arithmetic of the stats dashboard: one list, one set of sums.

``GET /ai/llm/stats`` answers eight totals per configuration; :data:`COUNTERS` names them in
one order (API calls first) with the labels every screen uses. Rates, compact numbers and the
per-minute series of ``/aistats/minute`` are worked out here, without any UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlmStats, AiStatsPoint

#: Minutes of history drawn from ``/aistats/minute``.
SERIES_MINUTES = 60


@dataclass(frozen=True)
class Counter:
    """One usage counter: its id, its label, its stats field, whether non-zero is alarming."""

    key: str
    label: str
    field: str
    alarming: bool = False


COUNTERS: tuple[Counter, ...] = (
    Counter("calls", "API calls", "total_api_calls"),
    Counter("tokens-in", "Tokens in", "total_tokens_in"),
    Counter("tokens-out", "Tokens out", "total_tokens_out"),
    Counter("llm-tokens-in", "LLM in", "total_llm_tokens_in"),
    Counter("llm-tokens-out", "LLM out", "total_llm_tokens_out"),
    Counter("violations", "Violations", "total_policy_violations", alarming=True),
    Counter("alerts", "Alerts", "total_alerts", alarming=True),
    Counter("blocks", "Blocks", "total_blocks", alarming=True),
)
ALARMING_FIELDS = frozenset(c.field for c in COUNTERS if c.alarming)
#: Where each field sits in a counters tuple (COUNTERS order).
FIELD_INDEX = {c.field: index for index, c in enumerate(COUNTERS)}
NO_USAGE: tuple[int, ...] = (0,) * len(COUNTERS)
read_counters = attrgetter(*(c.field for c in COUNTERS))


def counters_of(stats: AiLlmStats | None) -> tuple[int, ...]:
    """The counters of one configuration's stats in COUNTERS order (zeros without stats)."""
    return NO_USAGE if stats is None else read_counters(stats)


def sum_counters(rows: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    """Counter tuples added up field by field."""
    rows = list(rows)
    return tuple(map(sum, zip(*rows, strict=True))) if rows else NO_USAGE


def per_minute(current: int, previous: int, seconds: float) -> float:
    """The per-minute rate between two readings of a counter (never negative)."""
    if seconds <= 0:
        return 0.0
    return max(0, current - previous) * 60.0 / seconds


def format_count(value: int) -> str:
    """A counter for a narrow cell: ``12,345`` up to a million, then ``1.23M``, ``4.5G``."""
    if value < 1_000_000:
        return f"{value:,}"
    for divisor, suffix in ((1_000_000_000_000, "T"), (1_000_000_000, "G"), (1_000_000, "M")):
        if value >= divisor:
            return f"{value / divisor:.3g}{suffix}"
    return f"{value:,}"  # pragma: no cover - unreachable


def fit_count(value: int, width: int) -> str:
    """A counter in full (``1,234,567``) when it fits ``width`` cells, else compact."""
    full = f"{value:,}"
    return full if len(full) <= width else format_count(value)


def format_rate(rate: float) -> str:
    """A per-minute rate: ``0``, ``3.5``, ``120``, ``1.2k``, ``3.4M``."""
    if rate <= 0:
        return "0"
    if rate < 10:
        return f"{rate:.1f}".removesuffix(".0")
    if rate < 1000:
        return f"{rate:.0f}"
    if rate < 1_000_000:
        return f"{rate / 1000:.3g}k"
    return f"{rate / 1_000_000:.3g}M"


@dataclass(frozen=True)
class MinuteSeries:
    """The last minutes of traffic from ``/aistats/minute``, oldest minute first."""

    calls: list[int]
    tokens: list[int]
    latency_ms: float | None
    last_latency_ms: float | None
    last_conversations: int = 0
    """Conversations active in the last minute that had calls."""
    severity: tuple[int, int, int] = (0, 0, 0)
    """Violations in the window by severity: low, medium, high."""
    model_calls: dict[str, int] = field(default_factory=dict)
    """Calls in the window per model (most first)."""

    @property
    def has_traffic(self) -> bool:
        """Whether any call was recorded in the window."""
        return any(self.calls)


def minute_window(now: datetime, minutes: int = SERIES_MINUTES) -> tuple[datetime, datetime]:
    """The start (a whole minute) and end of the series window ending at ``now``."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
    return start, now


def summarize_minutes(
    points: Iterable[AiStatsPoint],
    start: datetime,
    *,
    minutes: int = SERIES_MINUTES,
    ai_llm_ids: set[str] | None = None,
) -> MinuteSeries:
    """Sum the points into one bucket per minute from ``start`` on; the latency is the
    call-weighted mean of the buckets' latencies (over the window and for the last minute
    that had calls). Points of other configurations than ``ai_llm_ids`` are skipped."""
    start_ms = int(start.timestamp() * 1000)
    calls = [0] * minutes
    tokens = [0] * minutes
    latency_sum = [0.0] * minutes
    conversations = [0] * minutes
    severity = [0, 0, 0]
    models: dict[str, int] = {}
    for point in points:
        if ai_llm_ids is not None and point.ai_llm_id not in ai_llm_ids:
            continue
        index = (point.timestamp - start_ms) // 60_000
        if not 0 <= index < minutes:
            continue
        calls[index] += point.api_calls
        tokens[index] += point.tokens_in + point.tokens_out
        latency_sum[index] += point.latency_ms * point.api_calls
        conversations[index] += point.active_conversations
        severity[0] += point.num_severity_low
        severity[1] += point.num_severity_medium
        severity[2] += point.num_severity_high
        if point.llm_model and point.api_calls:
            models[point.llm_model] = models.get(point.llm_model, 0) + point.api_calls
    total_calls = sum(calls)
    latency = sum(latency_sum) / total_calls if total_calls else None
    last = next((i for i in range(minutes - 1, -1, -1) if calls[i]), None)
    last_latency = latency_sum[last] / calls[last] if last is not None else None
    last_conversations = conversations[last] if last is not None else 0
    ranked = dict(sorted(models.items(), key=lambda item: (-item[1], item[0])))
    return MinuteSeries(calls, tokens, latency, last_latency, last_conversations,
                        (severity[0], severity[1], severity[2]), ranked)


def breakdown_lines(series: MinuteSeries) -> tuple[str, str]:
    """The last hour's violations by severity, and its calls per model."""
    low, medium, high = series.severity
    severity = f"Violations by severity: low {low:,} · medium {medium:,} · high {high:,}"
    models = ", ".join(f"{name} {count:,}" for name, count in series.model_calls.items())
    return severity, f"Calls by model: {models or 'none in the last hour'}"


def series_summary(series: MinuteSeries) -> str:
    """One line about the last hour: calls, tokens, latency, the latest minute."""
    if not series.has_traffic:
        return "Last hour: no traffic."
    text = (f"Last hour: {fit_count(sum(series.calls), 7)} calls,"
            f" {fit_count(sum(series.tokens), 7)} tokens, latency {series.latency_ms:,.0f} ms")
    if series.last_latency_ms is not None:
        text += f" · latest minute: {series.last_latency_ms:,.0f} ms"
        if series.last_conversations:
            plural = "s" if series.last_conversations != 1 else ""
            text += f", {series.last_conversations:,} conversation{plural}"
    return text
