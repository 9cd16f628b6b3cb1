"""EventFilters and their dialog: the audit trail by context, user, time range, unread only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from flashback_tui.api.models import EVENT_CONTEXTS


@dataclass
class EventFilters:
    """What the audit trail is narrowed to (empty: everything)."""

    context: str = ""
    user: str = ""
    since: str = ""
    until: str = ""
    unread_only: bool = False

    def describe(self) -> str:
        """The filters in force, in a few words."""
        parts = [f"context {self.context}" if self.context else "",
                 f"user {self.user}" if self.user else "",
                 f"from {self.since}" if self.since else "",
                 f"to {self.until}" if self.until else "",
                 "unread only" if self.unread_only else ""]
        return ", ".join(p for p in parts if p)


class EventFiltersDialog(ModalScreen[EventFilters | None]):
    """Edit the filters; ctrl+s applies, ctrl+r clears them, Esc cancels."""

    DEFAULT_CSS = """
    EventFiltersDialog #unread { margin: 0 0 1 12; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="event_filters.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="event_filters.apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all", id="event_filters.clear", priority=True),
    ]

    def __init__(self, filters: EventFilters) -> None:
        super().__init__()
        self.filters = filters

    def compose(self) -> ComposeResult:
        f = self.filters
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label("Event filters", classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Context", classes="field-label")
                yield Select([(c, c) for c in EVENT_CONTEXTS], value=f.context or Select.NULL,
                             prompt="any", id="context", compact=True)
            for name, label, placeholder, value in (
                    ("user", "User", "e-mail or user id", f.user),
                    ("since", "From", "2026-01-31 or 2026-01-31T08:00:00Z", f.since),
                    ("until", "To", "same form as From", f.until)):
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield Input(value, placeholder=placeholder, id=name, compact=True)
            yield Checkbox("Unread only", f.unread_only, id="unread", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Clear all (ctrl+r)", id="clear", compact=True)
                yield Button("Apply (ctrl+s)", id="apply", variant="primary", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        context = self.query_one("#context", Select).value
        self.dismiss(EventFilters(
            context="" if context is Select.NULL else str(context),
            user=self.query_one("#user", Input).value.strip(),
            since=self.query_one("#since", Input).value.strip(),
            until=self.query_one("#until", Input).value.strip(),
            unread_only=self.query_one("#unread", Checkbox).value))

    @on(Button.Pressed, "#clear")
    def action_clear(self) -> None:
        self.dismiss(EventFilters())

    def action_cancel(self) -> None:
        self.dismiss(None)
