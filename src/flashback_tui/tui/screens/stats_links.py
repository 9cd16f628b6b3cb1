"""StatsLinks: the dashboard's numbers open the lists behind them.

A base of the stats screen: the Violations, Alerts and Blocks tiles open the violation list
(alerts, blocked only) of the dashboard's workspace, by click or by key (``x``, ``l``, ``b``).
Under the last hour's summary it adds the violations by severity (from the minute series'
``numSeverity*`` counters; a click opens the violation list) and the calls per model.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Static

from flashback_tui.domain.usage import breakdown_lines
from flashback_tui.tui.messages import OpenViolations
from flashback_tui.tui.screens.base import BaseScreen
from flashback_tui.tui.widgets.stat_tile import StatTile

#: Tile id -> (list kind, blocked only).
TILE_LISTS = {
    "tile-violations": ("violations", False),
    "tile-alerts": ("alerts", False),
    "tile-blocks": ("violations", True),
}


class StatsLinks(BaseScreen):
    """Keys and clicks from the dashboard's alarm tiles to their lists."""

    workspace_id: str | None
    workspace_name: str

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "open_tile('tile-violations')", "Violations", id="stats.violations"),
        Binding("l", "open_tile('tile-alerts')", "Alerts", id="stats.alerts"),
        Binding("b", "open_tile('tile-blocks')", "Blocks", id="stats.blocks"),
    ]

    def action_open_tile(self, tile_id: str) -> None:
        """Open the list behind a tile."""
        kind, blocked = TILE_LISTS[tile_id]
        self.post_message(OpenViolations(self.workspace_id, self.workspace_name, kind=kind,
                                         blocked_only=blocked))

    def on_mount(self) -> None:
        series = self.query("#stats-series")
        if series:
            series.first().mount(Static("", id="stats-severity", markup=False),
                                 Static("", id="stats-models", markup=False))

    def on_stats_screen_loaded(self, message: Any) -> None:
        if message.series is None or not self.query("#stats-severity"):
            return
        severity, models = breakdown_lines(message.series)
        self.query_one("#stats-severity", Static).update(severity)
        self.query_one("#stats-models", Static).update(models)

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "stats-severity":
            self.action_open_tile("tile-violations")

    def on_stat_tile_clicked(self, message: StatTile.Clicked) -> None:
        if message.tile.id in TILE_LISTS:
            self.action_open_tile(message.tile.id)
