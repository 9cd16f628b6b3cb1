"""Last-known rows on screen: a snapshot's rows as table rows, and the line that says how
fresh the rows are (cached, live, or offline since the last good answer).

:class:`Freshness` is plain state (no widgets, no timers): the list asks it for the marker
line and for the pause before the next attempt (a
:class:`~flashback_tui.reconnect.ReconnectPolicy`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from enum import StrEnum

from flashback_tui.domain.status import ConfigState
from flashback_tui.reconnect import ReconnectPolicy
from flashback_tui.snapshot import SnapshotRow, describe_age
from flashback_tui.tui.config_rows import (
    NOT_VALIDATED,
    UNKNOWN,
    Status,
    config_row_cells,
    short_reason,
)
from flashback_tui.tui.widgets.fast_table import TableRow

#: What a write says while the rows on screen are not live.
WAIT_REASON = "This waits for the platform: the rows shown are not live yet."


def snapshot_status(row: SnapshotRow) -> Status:
    """The Status column of a cached row, as the live list showed it."""
    state, message = row.state, row.status_message
    if state is ConfigState.VALID:
        return Status("Valid", "valid", message)
    if state is ConfigState.INVALID:
        message = message or "validation failed"
        return Status(f"Invalid: {short_reason(message)}", "invalid", message)
    if state is ConfigState.NOT_VALIDATED:
        return NOT_VALIDATED
    return UNKNOWN


def snapshot_rows(rows: Iterable[SnapshotRow]) -> list[TableRow]:
    """A snapshot's rows as the configuration list's table rows."""
    return [config_row_cells(row.id, row.name, row.ai_type, row.endpoint or "", row.key or "",
                             None if row.repos is None else len(row.repos),
                             row.created_at, snapshot_status(row))
            for row in rows]


class Mode(StrEnum):
    """Where the rows on screen come from."""

    NONE = "none"
    CACHED = "cached"
    LIVE = "live"
    OFFLINE = "offline"


class Freshness:
    """How fresh a list's rows are, and when to try the platform again."""

    def __init__(self, *, wall_clock: Callable[[], float] = time.time,
                 policy: ReconnectPolicy | None = None) -> None:
        self.mode = Mode.NONE
        self.policy = policy or ReconnectPolicy(wall_clock=wall_clock)
        self._wall_clock = wall_clock
        self.cached_at: float | None = None
        """When the cached rows were live (Unix seconds)."""

    @property
    def live(self) -> bool:
        """True once a live answer is on screen (and the platform still answers)."""
        return self.mode is Mode.LIVE

    def show_cached(self, taken_at: float) -> None:
        """Rows of a snapshot taken at ``taken_at`` are on screen."""
        self.mode, self.cached_at = Mode.CACHED, taken_at

    def show_live(self) -> None:
        """A live answer is on screen."""
        self.mode, self.cached_at = Mode.LIVE, None
        self.policy.succeeded()

    def forget_cached(self) -> None:
        """The cached rows were taken away."""
        if self.mode is Mode.CACHED:
            self.mode, self.cached_at = Mode.NONE, None

    def went_offline(self, reason: str) -> float:
        """The platform cannot be reached: the pause before the next attempt."""
        if self.mode is not Mode.NONE:
            self.mode = Mode.OFFLINE
        return self.policy.failed(reason)

    @property
    def last_good_at(self) -> float | None:
        """When the rows on screen were last live (Unix seconds), if ever."""
        return self.policy.last_good_at or self.cached_at

    def marker(self, *, retrying: bool) -> str:
        """The line above the table ("" while live or with nothing on screen)."""
        if self.mode is Mode.CACHED:
            age = describe_age(self._wall_clock() - (self.cached_at or self._wall_clock()))
            return f"cached {age} · waiting for the platform"
        if self.mode is not Mode.OFFLINE:
            return ""
        parts = ["OFFLINE"]
        good = self.last_good_at
        if good is not None:
            stamp = time.strftime("%H:%M", time.localtime(good))
            parts.append(f"last good answer {stamp} "
                         f"({describe_age(self._wall_clock() - good)})")
        if self.policy.reason:
            parts.append(self.policy.reason)
        if retrying:
            parts.append(f"retry in {max(1, round(self.policy.remaining()))} s (r: now)")
        return " · ".join(parts)
