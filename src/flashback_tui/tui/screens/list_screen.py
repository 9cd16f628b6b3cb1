"""ListScreen: the pattern every list of the app follows.

A header, a filter box (``/``, Esc clears), a :class:`FastTable` sorted with ``o``/``O`` or a
header click, a one-line detail bar about the selected row, and the key bar. Enter or a double
click opens the row (:meth:`open_row`). Write actions (``WRITE_ACTIONS``) are hidden where the
session refuses them, and their keys then say why in a toast. The list reloads itself every
``refresh_interval`` seconds while it is on screen (the client's conditional GET makes an
unchanged answer cheap), keeping the cursor, the filter and the sort.

Rows may come from a last-known list first (:meth:`show_cached`, marked "cached ... ago");
the live answer replaces them in place. When the platform cannot be reached the rows stay,
browseable and searchable, marked offline with the time of the last good answer and the
reason, and the list tries again with backoff by itself (``r``: at once); writes meanwhile
say they wait for the platform.

Subclasses give ``columns()``, ``load()`` (a worker that posts its rows in a message) and
``detail_text()``; they call :meth:`show_rows` with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input, Static

from flashback_tui.api.errors import FlashbackConnectionError, FlashbackTimeoutError
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.last_known import WAIT_REASON, Freshness, Mode
from flashback_tui.tui.messages import (
    DropCached,
    PlatformGaveUp,
    PlatformRestarted,
    PlatformStopped,
    Reconnect,
    SessionFailed,
    SessionReady,
    ShowPicker,
)
from flashback_tui.tui.screens.base import BaseScreen, fill_header
from flashback_tui.tui.widgets.fast_table import FastTable, TableColumn, TableRow
from flashback_tui.tui.widgets.header_bar import HeaderBar
from flashback_tui.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState


class ListScreen(BaseScreen):
    """A filterable, sortable, live list of one kind of thing."""

    #: Actions that change data: hidden (and explained when pressed) where writes are refused.
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    #: Binding-id prefix of this screen (``configs`` -> ``configs.filter``).
    ID_PREFIX: ClassVar[str] = "list"
    FILTER_PLACEHOLDER: ClassVar[str] = "Filter (Enter: go to list, Esc: clear)"

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, state: SessionState, workspace_id: str | None,
                 workspace_name: str) -> None:
        super().__init__(state)
        self.workspace_id = workspace_id
        self.workspace_name = workspace_name
        self.loaded = False
        self.load_error: BaseException | None = None
        self._refresh_timer: Timer | None = None
        self.freshness = Freshness()
        self._retry_timer: Timer | None = None
        #: A load the retry timer started is on its way (still "retrying").
        self._retry_in_flight = False

    @classmethod
    def list_bindings(cls, prefix: str) -> list[BindingType]:
        """The bindings every list has, with ids under ``prefix``."""
        return [
            Binding("slash", "filter", "Filter", id=f"{prefix}.filter"),
            Binding("escape", "escape", "Back", show=False, id=f"{prefix}.back"),
            Binding("r", "refresh", "Refresh", id=f"{prefix}.refresh"),
        ]

    # -- to be given by subclasses ------------------------------------------------------------

    def columns(self) -> Sequence[TableColumn]:
        """The table's columns."""
        raise NotImplementedError

    def load(self) -> None:
        """Fetch the rows (a worker that posts them back)."""
        raise NotImplementedError

    def open_row(self, key: str) -> None:
        """Enter or a double click on a row."""

    def detail_text(self, key: str | None) -> str:
        """The detail bar's text for the selected row (None: no row)."""
        return ""

    def empty_text(self) -> str:
        """What an empty list says."""
        return "Nothing here yet."

    def row_workspace(self, key: str | None) -> str | None:
        """The workspace a row belongs to (write checks); the screen's by default."""
        return self.workspace_id

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Input(placeholder=self.FILTER_PLACEHOLDER, id="filter", compact=True)
        # Filled now, not on mount: a cached list's marker is in the very first frame.
        yield Static(self.freshness.marker(retrying=False), id="freshness", markup=False)
        yield Static("", id="empty")
        yield FastTable(self.columns(), id="rows")
        yield from self.compose_below_table()
        yield Static("", id="detail", markup=False)
        yield KeyBar()

    def compose_below_table(self) -> ComposeResult:
        """Widgets between the table and the detail bar (progress, ...)."""
        yield from ()

    @property
    def table(self) -> FastTable:
        """The list's table."""
        return self.query_one("#rows", FastTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#freshness").display = bool(self.freshness.marker(retrying=False))
        self.update_header()
        self.table.focus()
        self._refresh_timer = self.set_interval(self.state.refresh_interval, self.auto_refresh)

    def update_header(self) -> None:
        """The header line: where we are and with which role."""
        role = self.state.role_label(self.workspace_id) if self.workspace_id else ""
        fill_header(self.query_one(HeaderBar), self.state, workspace=self.workspace_name,
                    role=role)

    def on_session_ready(self, _: SessionReady) -> None:
        self.refresh_bindings()
        self.update_header()
        self.load()

    def on_session_failed(self, message: SessionFailed) -> None:
        if unreachable(message.error):
            self.went_offline(message.error)
            return
        self.load_error = message.error
        self.refresh_bindings()
        self.show_state()

    def auto_refresh(self) -> None:
        """The live refresh: reload while on screen, not already loading, and connected."""
        if not self.freshness.live and self.freshness.mode is not Mode.NONE:
            self.show_state()  # the marker's ages and countdown move on
        busy = any(w.group == "load" and w.is_running for w in self.workers)
        # ``is_current`` also holds under a screen that lets this one show through: refresh
        # only while this list is the screen in front.
        if (self.app.screen is self and self.loaded and not busy and self.freshness.live
                and self.state.client is not None):
            self.load()

    def action_refresh(self) -> None:
        """Reload now (or reconnect when the session never opened)."""
        self._stop_retrying()
        self.freshness.policy.reset()
        if self.state.client is None or self.state.platform_gave_up:
            self.post_message(Reconnect())
            return
        self.load()

    # -- cached, live, offline ------------------------------------------------------------------

    def show_cached(self, rows: Iterable[TableRow], taken_at: float) -> None:
        """Paint a last-known list, marked cached, until the live answer replaces it."""
        self.table.set_rows(list(rows))
        self.freshness.show_cached(taken_at)
        self.show_state()

    def paint_cached(self, rows: Iterable[TableRow], taken_at: float) -> None:
        """:meth:`show_cached` once the marker is drawn: rows never show without it."""
        self.freshness.show_cached(taken_at)

        def paint() -> None:
            if self.freshness.mode is Mode.CACHED:  # not dropped or replaced meanwhile
                self.show_cached(rows, taken_at)

        self.call_after_refresh(paint)

    def drop_cached(self) -> None:
        """Take cached rows away (they belong to another list)."""
        if self.freshness.mode is Mode.CACHED:
            self.freshness.forget_cached()
            self.table.set_rows([])
            self.show_state()

    def on_drop_cached(self, _: DropCached) -> None:
        self.drop_cached()

    def went_offline(self, error: BaseException | str) -> None:
        """The platform cannot be reached: keep the rows, say so, try again with backoff."""
        if isinstance(error, BaseException):
            self.load_error = error
        reason = error if isinstance(error, str) else self.unreachable_reason(error)
        delay = self.freshness.went_offline(reason)
        self._stop_retrying()
        self._retry_in_flight = False
        if not self.state.platform_trouble:  # else the supervisor is in charge
            self._retry_timer = self.set_timer(delay, self._retry)
        self.refresh_bindings()
        self.show_state()

    def load_failed(self, error: BaseException) -> None:
        """A load failed for another reason than an unreachable platform: say so."""
        self.load_error = error
        self._retry_in_flight = False
        self.show_state()

    def unreachable_reason(self, error: BaseException) -> str:
        """Why the platform cannot be reached, in words that fit where it runs."""
        if self.state.platform_trouble:
            return self.state.platform_trouble
        if self.state.local:
            return "The local platform does not answer"
        return describe_error(error, self.state.backend_label).message.rstrip(".")

    @property
    def retrying(self) -> bool:
        """Whether another attempt is scheduled or on its way."""
        return self._retry_timer is not None or self._retry_in_flight

    def _retry(self) -> None:
        self._retry_timer = None
        self._retry_in_flight = True
        if self.state.client is None:
            self.post_message(Reconnect())
        else:
            self.load()

    def _stop_retrying(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def on_platform_stopped(self, _: PlatformStopped) -> None:
        self.went_offline(self.state.platform_trouble)

    def on_platform_restarted(self, _: PlatformRestarted) -> None:
        self.freshness.policy.reset()
        self._stop_retrying()
        if self.state.client is not None:
            self.load()

    def on_platform_gave_up(self, _: PlatformGaveUp) -> None:
        self.went_offline(self.state.platform_trouble)

    # -- rows -----------------------------------------------------------------------------------

    def show_rows(self, rows: Iterable[TableRow]) -> None:
        """Put rows on screen, updating in place when the keys are the same."""
        rows = list(rows)
        table = self.table
        if table.keys == [row.key for row in rows]:
            table.update_rows(row for row in rows if table.get_row(row.key) != row)
        else:
            table.set_rows(rows)
        self.rows_are_live()

    def rows_are_live(self) -> None:
        """The rows on screen are the platform's latest answer: live, no error, no retry."""
        self.loaded = True
        self.load_error = None
        self._stop_retrying()
        self._retry_in_flight = False
        self.freshness.show_live()
        self.show_state()

    def show_state(self) -> None:
        """The empty-state line and the detail bar."""
        empty = self.query_one("#empty", Static)
        table = self.table
        message = self.state_text()
        _show_text(empty, message)
        failed = self.load_error is not None and self.freshness.mode is not Mode.OFFLINE
        empty.display = bool(message) and (table.row_count == 0 or failed)
        marker = self.query_one("#freshness", Static)
        line = self.freshness.marker(retrying=self.retrying)
        _show_text(marker, line)
        marker.display = bool(line)
        self.show_detail()

    def state_text(self) -> str:
        """Loading, error, empty or no-match text ("" when rows are shown)."""
        if not self.loaded:
            if self.state.connecting:
                return f"Connecting to {self.state.backend_label}…"
            return "Loading…"
        table = self.table
        if table.total_count == 0:
            return self.empty_text()
        if table.row_count == 0:
            return "Nothing matches the filter. Press Esc to clear it."
        return ""

    def show_detail(self) -> None:
        """Refresh the one-line detail bar."""
        _show_text(self.query_one("#detail", Static), self.detail_text(self.table.cursor_key),
                   layout=False)

    def on_fast_table_highlighted(self, _: FastTable.Highlighted) -> None:
        self.show_detail()
        if self.workspace_id is None:
            self.refresh_bindings()  # write access depends on the row's workspace

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        self.open_row(event.key)

    # -- filter ---------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.show_state()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        table = self.table
        table.focus()
        table.cursor_row = 0

    def clear_filter(self) -> bool:
        """Empty and hide the filter box; False when there was none."""
        box = self.query_one("#filter", Input)
        if not (box.display or box.value):
            return False
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.table.focus()
        self.show_state()
        return True

    def action_escape(self) -> None:
        """Clear the filter, else go back to the workspaces."""
        if not self.clear_filter():
            self.post_message(ShowPicker())

    # -- writes: hidden where refused, explained when pressed -----------------------------------

    def write_refusal(self, action: str) -> str:
        """Why ``action`` is refused here ("" when allowed)."""
        if self.freshness.mode in (Mode.CACHED, Mode.OFFLINE):
            return WAIT_REASON
        key = None if action == "new" else self.table.cursor_key
        workspace = self.workspace_id if action == "new" else self.row_workspace(key)
        return self.state.write_refusal(workspace)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITE_ACTIONS:
            return not self.write_refusal(action)
        return True

    def on_key(self, event: events.Key) -> None:
        """A key of a refused write says why, instead of doing nothing."""
        for node, bindings in self._binding_chain:
            if node is not self:
                continue
            for binding in bindings.key_to_bindings.get(event.key, []):
                if binding.action in self.WRITE_ACTIONS:
                    reason = self.write_refusal(binding.action)
                    if reason:
                        why = "waits" if reason == WAIT_REASON else "not allowed"
                        self.notify(reason, title=f"{binding.description}: {why}",
                                    severity="warning")
                        event.stop()
                        return


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the platform cannot be reached (not that it said no)."""
    return isinstance(error, FlashbackConnectionError | FlashbackTimeoutError)


def _show_text(static: Static, text: str, *, layout: bool = True) -> None:
    """Put ``text`` in ``static`` unless it is there already (each live refresh of an idle
    list would otherwise repaint the same words)."""
    if static.content != text:
        static.update(text, layout=layout)
