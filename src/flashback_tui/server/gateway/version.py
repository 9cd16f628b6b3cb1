"""The data version the gateway's caches follow, without a database round trip on each call.

Key routes and compiled policies are cached for one data version (``change_counter``, bumped
by triggers on every change of keys, repositories, configurations and policies). How the
gateway learns that version depends on the database:

SQLite
    Reading it is a query on a local file (microseconds), so every call reads it: a change
    made by anyone, the ``admin`` commands included, applies from the next call on.
PostgreSQL
    Reading it is a network round trip, and several replicas serve one database. A
    background task reads it every :data:`POLL_INTERVAL` seconds (in a worker thread) and
    calls use the last value read. A value is trusted for :data:`MAX_STALENESS` seconds
    after the read that fetched it began; a call that finds it older reads it again first
    (in a thread), so no replica serves from a version older than that, however busy it
    is: a key revoked through one replica is refused by every other within a second. A
    replica also reads the version after each change made through its own API, before
    answering it, so its own changes apply from the next call on.

Why polling rather than PostgreSQL's LISTEN/NOTIFY: a poll works through the connection
poolers on-prem databases often sit behind (PgBouncer's transaction mode drops LISTEN), needs
no connection held open per replica and no change to the triggers, and a lost connection
only delays one poll instead of silently missing notifications. Its cost is two indexed
reads of a one-row table per second per replica, and a bound on staleness that does not
depend on delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

logger = logging.getLogger("flashback_tui.server.gateway")

#: Seconds between two background reads of the data version (PostgreSQL).
POLL_INTERVAL = 0.5
#: Seconds a value read is trusted (from the start of its read); older, a call reads again.
MAX_STALENESS = 1.0


class DataVersionWatch:
    """The current data version: read on each call (``poll=False``) or kept fresh by a
    background poll (``poll=True``). ``read`` is blocking and runs in worker threads."""

    def __init__(self, read: Callable[[], tuple[int, ...]], *, poll: bool,
                 interval: float = POLL_INTERVAL, max_staleness: float = MAX_STALENESS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self.poll = poll
        self.interval = interval
        self.max_staleness = max_staleness
        self._clock = clock
        self._value: tuple[int, ...] | None = None
        self._read_at = float("-inf")
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def start(self) -> None:
        """Begin polling (PostgreSQL); the first value is read when first needed."""
        if self.poll and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop polling."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def current(self) -> tuple[int, ...]:
        """The data version, at most ``max_staleness`` seconds old when polling."""
        if not self.poll:
            return self._read()
        if self._value is None or self._clock() - self._read_at > self.max_staleness:
            await self.refresh()
        assert self._value is not None
        return self._value

    async def refresh(self) -> None:
        """Read the version now (in a thread); raises what the read raises."""
        started = self._clock()
        value = await asyncio.to_thread(self._read)
        # A slower read begun earlier may finish later: keep the newest of what was read.
        if self._value is None or value > self._value:
            self._value = value
        self._read_at = max(self._read_at, started)

    async def after_local_change(self) -> None:
        """Take in a change this process just committed (before its answer goes out)."""
        if not self.poll:
            return
        try:
            await self.refresh()
        except Exception as exc:
            self._read_at = float("-inf")  # the next call reads again
            logger.error("cannot read the data version after a change: %s",
                         type(exc).__name__)

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
                if self._failing:
                    logger.warning("the data version can be read again")
                self._failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._failing:
                    logger.error("cannot read the data version (retried every %g s): %s",
                                 self.interval, type(exc).__name__)
                self._failing = True
            await asyncio.sleep(self.interval)
