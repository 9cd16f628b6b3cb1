"""A clock a test moves by hand, for servers built in-process (``create_app(clock=...)``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ManualClock:
    """Both readings the server takes (:class:`flashback_tui.server.clock.Clock`), moved only
    by :meth:`advance`."""

    def __init__(self, start: datetime = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)) -> None:
        self.at = start
        self.ticks = 1000.0

    def now(self) -> datetime:
        """The clock's time."""
        return self.at

    def monotonic(self) -> float:
        """The clock's seconds."""
        return self.ticks

    def advance(self, seconds: float) -> None:
        """Move both readings on by ``seconds``."""
        self.at += timedelta(seconds=seconds)
        self.ticks += seconds
