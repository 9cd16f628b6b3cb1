"""StatsLinks: the dashboard's numbers open the lists behind them.

A base of the stats screen: the Violations, Alerts and Blocks tiles open the violation list
(alerts, blocked only) of the dashboard's workspace, by click or by key (``x``, ``l``, ``b``).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

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

    def on_stat_tile_clicked(self, message: StatTile.Clicked) -> None:
        if message.tile.id in TILE_LISTS:
            self.action_open_tile(message.tile.id)
