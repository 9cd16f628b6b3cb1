"""EventListScreen: the audit trail (``POST /systemevent``), newest first, a page at a time.

Unread events are marked with ``●``; ``u`` marks the selected event read or unread. ``]``/``[``
turn pages (the total is shown); ``f`` filters by context, user, time range and unread only.
Reached from the configuration list (``h``, history) and the command palette.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.tui.screens.event_filters import EventFilters, EventFiltersDialog
from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import SystemEvent
    from flashback_tui.tui.session_state import SessionState

PAGE_SIZE = 50
UNREAD = "●"
EVENT_COLUMNS = (
    TableColumn("", min_width=1, priority=0, max_width=1),
    TableColumn("Time", min_width=16, priority=0, max_width=16),
    TableColumn("Context", min_width=7, priority=1, max_width=13),
    TableColumn("Event", min_width=7, priority=1, max_width=7),
    TableColumn("Who", min_width=10, priority=2, max_width=30, flex=1),
    TableColumn("What", min_width=8, priority=3, flex=1),
)


def event_row(event: SystemEvent) -> TableRow:
    """One event as a row; unread ones marked and bright, read ones dimmed."""
    when = event.timestamp.replace("T", " ")[:16]
    who = event.user_email or event.user_name or event.user_id
    style = None if event.show_unread else "dim"
    return TableRow(str(event.id), (UNREAD if event.show_unread else "", when, event.context,
                                    event.event, who, event.context_id),
                    (event.show_unread, event.timestamp, event.context, event.event, who,
                     event.context_id),
                    ("pending", style, style, style, style, "dim"),
                    f"{event.context}\n{event.event}\n{who}\n{event.context_id}".lower(), event)


@dataclass
class EventsLoaded(Message):
    """One page of events and the total that match."""

    events: list[SystemEvent] = field(default_factory=list)
    total: int = 0


class EventListScreen(ListScreen):
    """The audit trail of a workspace (None: everything the caller may see)."""

    ID_PREFIX = "events"
    FILTER_PLACEHOLDER = "Filter this page (Enter: go to list, Esc: clear); f: all filters"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("toggle_read", "filters", "next_page",
                                            "previous_page", "filter", "refresh", "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("events"),
        Binding("u", "toggle_read", "Read/unread", id="events.read"),
        Binding("f", "filters", "Filters", id="events.filters"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]",
                id="events.next"),
        Binding("left_square_bracket", "previous_page", "Prev page", key_display="[",
                id="events.previous"),
    ]

    def __init__(self, state: SessionState, workspace_id: str | None,
                 workspace_name: str) -> None:
        super().__init__(state, workspace_id, workspace_name or "All workspaces")
        self.filters = EventFilters()
        self.page = 0
        self.total = 0
        self._events: dict[str, SystemEvent] = {}

    def columns(self) -> Sequence[TableColumn]:
        return EVENT_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    def update_header(self) -> None:
        super().update_header()
        from flashback_tui.tui.widgets.header_bar import HeaderBar

        self.query_one(HeaderBar).workspace = f"{self.workspace_name}: events"

    def query_body(self) -> dict[str, Any]:
        """The body of ``POST /systemevent`` for this page and these filters."""
        from flashback_tui.api.models import EVENT_CONTEXTS

        filters = self.filters
        body: dict[str, Any] = {"skip": self.page * PAGE_SIZE, "take": PAGE_SIZE,
                                "workspaceId": self.workspace_id}
        if filters.context in EVENT_CONTEXTS:
            body["context"] = EVENT_CONTEXTS.index(filters.context)
        body["from_timestamp"] = filters.since or None
        body["to_timestamp"] = filters.until or None
        body["showUnread"] = True if filters.unread_only else None
        return {k: v for k, v in body.items() if v is not None}

    async def user_id(self, wanted: str) -> str:
        """A user id for an e-mail among the workspaces' members (else the text itself)."""
        for workspace in self.state.workspaces:
            for member in workspace.users:
                if member.user and member.user.email.casefold() == wanted.casefold():
                    return member.user_id
        return wanted

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the current page."""
        from flashback_tui.api.models import SystemEventQuery

        client = self.state.client
        if client is None:
            return
        body = self.query_body()
        if self.filters.user:
            body["userId"] = await self.user_id(self.filters.user)
        answer = await client.get_system_events(SystemEventQuery.model_validate(body))
        self.post_message(EventsLoaded(list(answer.events), answer.total))

    def on_events_loaded(self, message: EventsLoaded) -> None:
        self.total = message.total
        self._events = {str(e.id): e for e in message.events}
        self.show_rows(event_row(e) for e in message.events)

    @property
    def page_count(self) -> int:
        """Pages the total fills (at least one)."""
        return max(1, -(-self.total // PAGE_SIZE))

    def empty_text(self) -> str:
        summary = self.filters.describe()
        return "No events" + (f" with {summary}." if summary else " yet.")

    def detail_text(self, key: str | None) -> str:
        event = self._events.get(key) if key else None
        unread = sum(1 for e in self._events.values() if e.show_unread)
        parts = [f"{self.total} events, {unread} unread here",
                 f"page {self.page + 1}/{self.page_count}"]
        if self.filters.describe():
            parts.insert(0, self.filters.describe())
        if event is not None and event.json_data:
            parts.append(" ".join(event.json_data.split()))
        return " · ".join(parts)

    def action_escape(self) -> None:
        if not self.clear_filter():
            self.dismiss()

    def action_next_page(self) -> None:
        if self.page + 1 < self.page_count:
            self.page += 1
            self.load()

    def action_previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self.load()

    def action_filters(self) -> None:
        def chosen(filters: EventFilters | None) -> None:
            if filters is not None:
                self.filters, self.page = filters, 0
                self.load()

        self.app.push_screen(EventFiltersDialog(self.filters), chosen)

    def action_toggle_read(self) -> None:
        key = self.table.cursor_key
        event = self._events.get(key) if key else None
        if event is not None:
            self._mark(event)

    @work(group="write", exit_on_error=False)
    async def _mark(self, event: SystemEvent) -> None:
        client = self.state.client
        assert client is not None
        if event.show_unread:
            await client.mark_system_event_as_read(event.id)
        else:
            await client.mark_system_event_as_unread(event.id)
        self.load()
