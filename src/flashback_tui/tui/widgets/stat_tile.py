"""StatTile: one usage counter of the stats dashboard, with its rate and a rate sparkline."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult, RenderResult
from textual.color import Color
from textual.message import Message
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widget import Widget
from textual.widgets import Static

from flashback_tui.domain.usage import format_count, format_rate

__all__ = ["RateSparkline", "StatTile", "format_count", "format_rate"]


class RateSparkline(Widget):
    """Textual's sparkline drawn one cell per value from the left, in the theme's primary
    colour. Unlike the Sparkline widget it never stretches a few values over its width, and
    new values repaint it without a layout."""

    DEFAULT_CSS = """
    RateSparkline {
        height: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def show(self, values: Sequence[float]) -> None:
        """Draw these values (the last ones that fit), or nothing when fewer than two."""
        values = list(values) if len(values) >= 2 else []
        if values != self.values:
            self.values = values
            self.refresh()

    def render(self) -> RenderResult:
        values = self.values[-max(1, self.size.width):]
        if not values:
            return ""
        _, background = self.background_colors
        primary = Color.parse(self.app.theme_variables.get("primary", "#0178D4"))
        return SparklineRenderable(
            values,
            width=len(values),
            min_color=(background + primary.with_alpha(0.3)).rich_color,
            max_color=(background + primary).rich_color,
        )


class StatTile(Widget):
    """A bordered tile: the label in the border, the total with its per-minute rate, and a
    sparkline of the recent rates (one cell per refresh, filling up from the left).

    Tiles created with ``alert_when_nonzero`` get the ``-alert`` CSS class while their total
    is above zero (policy violations, alerts, blocks). Updates repaint only what changed and
    never trigger a layout.
    """

    DEFAULT_CSS = """
    StatTile {
        height: 4;
        border: round $primary 40%;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    StatTile > .stat-value {
        height: 1;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatTile.-alert {
        border: round $error;
        border-title-color: $error;
    }
    StatTile.-alert > .stat-value {
        color: $error;
    }
    """

    class Clicked(Message):
        """A tile was clicked: the dashboard opens the list behind its number."""

        def __init__(self, tile: StatTile) -> None:
            super().__init__()
            self.tile = tile

    def __init__(self, label: str, *, alert_when_nonzero: bool = False, id: str | None = None):
        super().__init__(id=id)
        self.label = label
        self.alert_when_nonzero = alert_when_nonzero
        self.border_title = label
        self.total: int | None = None
        self._shown_text = ""

    def compose(self) -> ComposeResult:
        yield Static("…", classes="stat-value", markup=True)
        yield RateSparkline()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self))

    def show(self, total: int, rate: float | None, rates: Sequence[float]) -> None:
        """Display ``total``, its latest per-minute ``rate`` (None before the second refresh)
        and the sparkline of recent ``rates`` (drawn once there are two of them)."""
        self.total = total
        text = format_count(total)
        if rate is not None:
            text += f"  [dim]+{format_rate(rate)}/min[/]"
        if text != self._shown_text:
            self._shown_text = text
            self.query_one(".stat-value", Static).update(text, layout=False)
        self.query_one(RateSparkline).show(rates)
        if self.alert_when_nonzero:
            self.set_class(total > 0, "-alert")
