"""KeyBar: one line with the current screen's most important keys, then ``? more``.

A light stand-in for Textual's Footer: one widget that renders text. It follows the same
signal as Footer, so keys hidden by ``check_action`` (read-only mode, roles) disappear here
too and remapped keys show their new key. A binding is never cut in half: the bar shows the
ones that fit, in the screen's order of importance (``KEY_ORDER``, else the binding order),
and ends with ``? more`` when some did not fit. Clicking a key runs it, as on Footer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.dom import DOMNode

#: Actions of the help key, shown at the right end of the bar whatever the width.
HELP_ACTIONS = frozenset({"help", "app.help"})


@dataclass(frozen=True)
class KeyEntry:
    """One key on the bar: what is shown, what runs, and on which node."""

    key: str
    description: str
    action: str
    node: DOMNode


class KeyBar(Widget):
    """The bottom line: ``key Description`` for the most important shown bindings."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[int, int, KeyEntry]] = []
        """Where each shown key sits on the line: (first cell, end cell, entry)."""
        self.hidden: list[KeyEntry] = []
        """Keys that did not fit (they are under ``?``)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _: Screen[object]) -> None:
        self.refresh()

    def entries(self) -> tuple[list[KeyEntry], KeyEntry | None]:
        """The shown and enabled keys in order of importance, and the help key."""
        found: list[KeyEntry] = []
        help_entry = None
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            entry = KeyEntry(self.app.get_key_display(binding), binding.description,
                             binding.action, active.node)
            if binding.action in HELP_ACTIONS:
                help_entry = entry
            else:
                found.append(entry)
        order = list(getattr(self.screen, "KEY_ORDER", ()))
        if order:
            rank = {action: index for index, action in enumerate(order)}
            found.sort(key=lambda e: rank.get(e.action, len(rank)))
        return found, help_entry

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        description_style = self.get_component_rich_style("key-bar--description", partial=True)
        found, help_entry = self.entries()
        width = self.size.width
        help_text = ""
        if help_entry is not None:
            help_text = f" {help_entry.key} more " if found else f" {help_entry.key} help "
        room = width - len(help_text)
        line = Text(no_wrap=True, end="")
        spans: list[tuple[int, int, KeyEntry]] = []
        hidden: list[KeyEntry] = []
        for entry in found:
            piece = len(entry.key) + len(entry.description) + 3
            if line.cell_len + piece > room:
                hidden.append(entry)
                continue
            start = line.cell_len
            line.append(f" {entry.key} ", style=key_style)
            line.append(f"{entry.description} ", style=description_style)
            spans.append((start, line.cell_len, entry))
        if help_entry is not None:
            if not hidden:
                help_text = f" {help_entry.key} help "
            line.pad_right(max(width - line.cell_len - len(help_text), 0))
            start = line.cell_len
            key, _, word = help_text.strip().partition(" ")
            line.append(f" {key} ", style=key_style)
            line.append(f"{word} ", style=description_style)
            spans.append((start, line.cell_len, help_entry))
        self.spans, self.hidden = spans, hidden
        return line

    async def _on_click(self, event: events.Click) -> None:
        for start, end, entry in self.spans:
            if start <= event.x < end:
                event.stop()
                await self.app.run_action(entry.action, entry.node)
                return
