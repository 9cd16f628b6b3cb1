"""Retention: per-minute usage, violations, alerts and system events are kept for a while.

Defaults: 14 days of per-minute usage, 90 days of violations, alerts and events; daily usage
and the totals per configuration are kept for ever; the conversations counted per minute
and per day are remembered for an hour and two days. A background task prunes what is older,
in small batches, each its own short transaction in a worker thread, so the gateway (which
writes usage from the event loop's side) never waits on it for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flashback_tui.api.models import format_timestamp
from flashback_tui.server.store import events as event_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store import usage_buckets
from flashback_tui.server.store import violations as violation_store
from flashback_tui.server.store.base import now_ms

logger = logging.getLogger("flashback_tui.server.retention")

DAY_MS = 86_400_000


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record is kept, and how pruning proceeds."""

    minute_days: float = 14
    violation_days: float = 90
    event_days: float = 90
    batch: int = 500
    interval: float = 3600.0
    #: Seconds after start-up before the first pass (leaves the CPU to the first answers).
    first_delay: float = 60.0


@dataclass(frozen=True)
class Pruned:
    """What one pruning pass removed."""

    minutes: int
    violations: int
    events: int
    #: Conversations no pending count can still need (see ``usage_buckets.prune_conversations``).
    conversations: int = 0


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))


def _drain(step: Callable[[], int], batch: int) -> int:
    """Run ``step`` until it removes fewer than a batch; the total removed."""
    total = 0
    while True:
        removed = step()
        total += removed
        if removed < batch:
            return total


def prune_once(conn_of_thread: Callable[[], object], policy: RetentionPolicy,
               at_ms: int | None = None) -> Pruned:
    """Remove everything older than the policy allows, batch by batch (blocking)."""
    now = now_ms() if at_ms is None else at_ms
    conn = conn_of_thread()
    minute_cutoff = now - int(policy.minute_days * DAY_MS)
    violation_cutoff = now - int(policy.violation_days * DAY_MS)
    event_cutoff = _iso(now - int(policy.event_days * DAY_MS))
    return Pruned(
        minutes=_drain(lambda: usage_store.prune_minutes(conn, minute_cutoff, policy.batch),
                       policy.batch),
        violations=_drain(lambda: violation_store.prune(conn, violation_cutoff, policy.batch),
                          policy.batch),
        events=_drain(lambda: event_store.prune(conn, event_cutoff, policy.batch),
                      policy.batch),
        conversations=sum(
            _drain(lambda span=span, memory=memory: usage_buckets.prune_conversations(
                conn, span, now - memory, policy.batch), policy.batch)
            for span, memory in usage_buckets.CONVERSATION_MEMORY_MS.items()),
    )


async def run_periodically(conn_of_thread: Callable[[], object], policy: RetentionPolicy
                           ) -> None:
    """Prune ``policy.first_delay`` s after start, then every ``policy.interval`` s."""
    await asyncio.sleep(policy.first_delay)
    while True:
        try:
            pruned = await asyncio.to_thread(prune_once, conn_of_thread, policy)
            if pruned.minutes or pruned.violations or pruned.events:
                logger.info("retention removed %d usage minute rows, %d violations and"
                            " alerts, %d events", pruned.minutes, pruned.violations,
                            pruned.events)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.error("retention pass failed (retried later): %s", type(exc).__name__)
        await asyncio.sleep(policy.interval)
