"""When to try an unreachable platform again: exponential backoff, and what to show meanwhile.

:class:`ReconnectPolicy` is plain state, no I/O and no timers of its own: the caller (the
TUI's offline view) asks it how long to wait, schedules the attempt itself, and tells it how
the attempt went. It also keeps what the offline view shows: when the last good answer came
and why the platform cannot be reached now. ``clock`` is injectable (monotonic seconds for
scheduling); ``wall_clock`` (Unix seconds) stamps the last good answer.

    policy = ReconnectPolicy()
    delay = policy.failed("Cannot reach the platform: connection refused")  # 0.5, 1, 2, ...
    ...                                       # set_timer(delay, try_again), or `r` at once
    policy.succeeded()                        # back online: the next failure waits 0.5 s
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ReconnectPolicy"]

FIRST_DELAY = 0.5
FACTOR = 2.0
MAX_DELAY = 15.0


class ReconnectPolicy:
    """Backoff between reconnection attempts: ``first``, then ``factor`` times longer each
    time, never more than ``cap`` seconds (0.5, 1, 2, 4, 8, 15, 15, ... by default)."""

    def __init__(
        self,
        *,
        first: float = FIRST_DELAY,
        factor: float = FACTOR,
        cap: float = MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if first <= 0 or factor < 1 or cap < first:
            raise ValueError("need first > 0, factor >= 1 and cap >= first")
        self._first, self._factor, self._cap = first, factor, cap
        self._clock, self._wall_clock = clock, wall_clock
        self.attempts = 0
        """Attempts counted by the backoff since it last started over."""
        self.offline = False
        """True from a failure until the next success."""
        self.reason = ""
        """Why the last attempt failed ("" while online)."""
        self.last_good_at: float | None = None
        """When the last good answer came (Unix seconds), None if none yet."""
        self.next_attempt_at: float | None = None
        """When the next attempt is due (``clock`` seconds), None while online."""

    def next_delay(self) -> float:
        """The pause before the next attempt, and count this one as made."""
        delay = min(self._cap, self._first * self._factor ** self.attempts)
        self.attempts += 1
        self.next_attempt_at = self._clock() + delay
        return delay

    def failed(self, reason: str = "") -> float:
        """An attempt failed for ``reason``: the pause before the next one."""
        self.offline = True
        self.reason = reason
        return self.next_delay()

    def succeeded(self) -> None:
        """A good answer arrived: online again, and the backoff starts over."""
        self.reset()
        self.offline = False
        self.reason = ""
        self.last_good_at = self._wall_clock()

    def reset(self) -> None:
        """Start the backoff over (the user asked to retry at once, or a success); still
        offline until an attempt succeeds."""
        self.attempts = 0
        self.next_attempt_at = None

    def remaining(self) -> float:
        """Seconds until the next attempt is due (0 when due, or while online)."""
        if self.next_attempt_at is None:
            return 0.0
        return max(0.0, self.next_attempt_at - self._clock())

    def due(self) -> bool:
        """Whether an attempt is due now (offline, and its pause is over)."""
        return self.offline and self.remaining() == 0.0
