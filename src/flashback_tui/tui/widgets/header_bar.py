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
    workspace: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)
    profile_color: reactive[str | None] = reactive(None)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.title} ", style="bold reverse" if not self.profile_color
                    else f"bold white on {self.profile_color}")
        for label, value in (("", self.backend), ("Workspace: ", self.workspace),
                             ("Role: ", self.role)):
            if value:
                text.append(" │ ", style="dim")
                text.append(label, style="dim")
                text.append(value, style="bold")
        if self.read_only:
            text.append(" │ ", style="dim")
            text.append("READ-ONLY", style="bold yellow")
        return text
