"""HeaderBar: one line saying where you are: backend, profile, workspace, role, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class HeaderBar(Widget):
    """The top line of every screen. Attributes down: the screen sets them."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; color: $text; }
    """

    title: reactive[str] = reactive("flashback-tui")
    backend: reactive[str] = reactive("")
    profile: reactive[str] = reactive("")
    credential: reactive[str] = reactive("")
    workspace: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)
    profile_color: reactive[str | None] = reactive(None)

    def render(self) -> Text:
        """The full line, or, when it does not fit, the same values without their labels."""
        text = self._line(labels=True)
        if text.cell_len > self.size.width > 0:
            text = self._line(labels=False)
        return text

    def _line(self, *, labels: bool) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.title} ", style=self._title_style())
        if self.read_only:
            text.append(" READ-ONLY ", style="bold black on yellow")
        backend = self.backend
        if self.profile:
            backend += f" ({self.profile})"
        for label, value in (("", backend), ("Workspace: ", self.workspace),
                             ("Role: ", self.role), ("Token: ", self.credential)):
            if value:
                text.append(" │ ", style="dim")
                if labels:
                    text.append(label, style="dim")
                text.append(value, style="bold")
        return text

    def _title_style(self) -> str:
        """Reverse video, or the profile's colour (a production marker) when it parses."""
        if not self.profile_color:
            return "bold reverse"
        from rich.color import Color, ColorParseError

        try:
            Color.parse(self.profile_color)
        except ColorParseError:
            return "bold reverse"
        return f"bold white on {self.profile_color}"
