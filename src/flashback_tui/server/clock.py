"""Where the server reads the time: one clock object, replaceable where the server is built.

Production code uses :data:`SYSTEM` (the wall clock for timestamps, ``time.monotonic`` for
durations). A server built in-process (``create_app(..., clock=...)``) may be given another
object with the same two methods, so that a lockout's end or a minute's boundary is reached
by moving that clock rather than by waiting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """The two readings the server takes."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations)."""


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()


SYSTEM: Clock = SystemClock()
