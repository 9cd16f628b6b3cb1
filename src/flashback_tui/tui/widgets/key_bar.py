"""KeyBar: one line listing the current screen's keys.

A light stand-in for Textual's Footer: a single widget that renders text, instead of one
child widget per key that is recomposed whenever the bindings change. It follows the same
signal as Footer, so keys hidden by ``check_action`` (read-only mode, roles) disappear here
too, and remapped keys (the profile's keymap) show their new key.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """The bottom line: ``key Description`` for every shown and enabled binding."""

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

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _: Screen[object]) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        description_style = self.get_component_rich_style("key-bar--description", partial=True)
        keys = Text(no_wrap=True, overflow="ellipsis", end="")
        always = Text(no_wrap=True, end="")  # help and palette stay visible at the right
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            palette = key == self.app.COMMAND_PALETTE_BINDING
            if palette and not self.app.ENABLE_COMMAND_PALETTE:
                continue
            if not palette and (not binding.show or not active.enabled
                                or binding.action in seen):
                continue
            seen.add(binding.action)
            target = always if palette or binding.action in HELP_ACTIONS else keys
            description = "palette" if palette else binding.description
            target.append(f" {self.app.get_key_display(binding)} ", style=key_style)
            target.append(f"{description} ", style=description_style)
        room = self.size.width - always.cell_len
        if keys.cell_len > room > 1:
            keys.truncate(room, overflow="ellipsis")
        keys.pad_right(max(room - keys.cell_len, 0))
        return keys + always


#: Actions always shown at the right end of the bar, whatever the width.
HELP_ACTIONS = frozenset({"help", "app.help", "command_palette"})
