"""The help dialog: every key binding active on the screen below it, and the app's.

Bindings are read from the underlying screen's ``active_bindings`` when the dialog opens,
so remapped keys (the settings file's keymap) and actions hidden in the current mode (for
example writes in read-only mode) are shown as they really are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from textual.binding import ActiveBinding
    from textual.dom import DOMNode
    from textual.screen import Screen


@dataclass(frozen=True)
class HelpEntry:
    """One row of the help table: the keys of one binding and what they do."""

    keys: str
    description: str
    binding_id: str
    scope: str


def _scope_name(node: DOMNode, screen: Screen) -> str:
    """Where a binding is defined, in words: the app, the screen, or a widget on it."""
    if node is screen.app:
        return "app"
    if node is screen:
        return "screen"
    return type(node).__name__


def screen_name(screen: Screen) -> str:
    """The screen's title, else its class name in words: ``ConfigListScreen`` -> ``Config
    list``."""
    if screen.title:
        return screen.title
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", type(screen).__name__.removesuffix("Screen"))
    text = " ".join(words).capitalize()
    return text or "this screen"


def help_entries(screen: Screen) -> list[HelpEntry]:
    """The bindings active on ``screen`` (its focused widget's, its own and the app's), with
    the keys of one binding joined on one row, in the order the screen offers them."""
    grouped: dict[tuple[int, str, str], tuple[list[str], ActiveBinding]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        group = (id(active.node), binding.action, binding.id or "")
        keys, _ = grouped.setdefault(group, ([], active))
        display = screen.app.get_key_display(binding)
        if display not in keys:
            keys.append(display if display else key)
    entries = []
    for keys, active in grouped.values():
        binding = active.binding
        description = binding.description or binding.tooltip or binding.action
        entries.append(
            HelpEntry(", ".join(keys), description, binding.id or "",
                      _scope_name(active.node, screen))
        )
    order = {"screen": 0, "app": 1}
    return sorted(entries, key=lambda e: order.get(e.scope, 2))


class HelpScreen(ModalScreen[None]):
    """Screen 6: a scrollable table of the keys of the screen below and of the app; Esc, q,
    ? or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > #help-dialog {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $primary 60%;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title {
        text-style: bold;
        height: 1;
    }
    HelpScreen #help-table {
        height: 1fr;
    }
    HelpScreen #help-hint {
        height: auto;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("Keys", id="help-title", markup=False)
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static("Esc, q, ? or F1 closes. Remap a key by its binding id in the"
                         " settings file (keymap).", id="help-hint", markup=False)

    def on_mount(self) -> None:
        below = self._screen_below()
        title = self.query_one("#help-title", Static)
        table = self.query_one(DataTable)
        table.add_column("Key", key="key")
        table.add_column("Action", key="action")
        table.add_column("Binding id", key="id")
        table.add_column("Where", key="scope")
        if below is None:
            title.update("Keys")
            return
        title.update(f"Keys · {screen_name(below)}")
        for entry in help_entries(below):
            table.add_row(Text(entry.keys, style="bold"), Text(entry.description),
                          Text(entry.binding_id), Text(entry.scope))
        table.focus()

    def _screen_below(self) -> Screen | None:
        """The screen this dialog was opened over."""
        stack = self.app.screen_stack
        if self in stack:
            index = stack.index(self)
            return stack[index - 1] if index > 0 else None
        return stack[-1] if stack else None

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
