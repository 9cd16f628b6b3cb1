"""WorkspacesScreen: pick a workspace (or all of them); shows your role and their sizes."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static
from textual.worker import Worker

from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import (
    OpenStats,
    OpenWorkspace,
    Reconnect,
    SessionFailed,
    SessionReady,
)
from flashback_tui.tui.screens.base import BaseScreen, fill_header
from flashback_tui.tui.widgets.fast_table import FastTable, TableColumn, TableRow
from flashback_tui.tui.widgets.header_bar import HeaderBar
from flashback_tui.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState

ALL_KEY = "*"
WORKSPACE_COLUMNS = (
    TableColumn("Workspace", flex=1, min_width=12),
    TableColumn("Your role", width=9),
    TableColumn("Configurations", width=14, justify_right=True),
)


class WorkspacesScreen(BaseScreen):
    """The workspace picker, at the bottom of the screen stack (`w` comes back here)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="workspaces.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="workspaces.clear"),
        Binding("r", "refresh", "Refresh", id="workspaces.refresh"),
        Binding("s", "stats", "Stats", id="workspaces.stats"),
    ]

    KEY_ORDER: ClassVar[tuple[str, ...]] = ("filter", "stats", "refresh", "quit")

    def __init__(self, state: SessionState) -> None:
        super().__init__(state)
        self.counts: Counter[str] | None = None
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Input(placeholder="Filter workspaces (Enter: go to list, Esc: clear)",
                    id="filter", compact=True)
        yield FastTable(WORKSPACE_COLUMNS, id="workspaces")
        yield Static("", id="empty")
        yield Static("Enter opens a workspace · / filters · w comes back here from anywhere",
                     id="detail")
        yield KeyBar()

    @property
    def table(self) -> FastTable:
        return self.query_one("#workspaces", FastTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.table.focus()
        self.show_workspaces()

    def on_screen_resume(self) -> None:
        if self.state.client is not None:
            self.load_counts()

    def on_session_ready(self, _: SessionReady) -> None:
        self.show_workspaces()
        if self.is_current:
            self.load_counts()

    def on_session_failed(self, message: SessionFailed) -> None:
        self.error = message.error
        self.show_workspaces()

    def action_refresh(self) -> None:
        if self.state.client is None:
            self.post_message(Reconnect())
            return
        self.reload()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Fetch workspaces again, then their sizes."""
        client = self.state.client
        if client is None:
            return
        self.state.workspaces = list((await client.get_workspaces()).workspaces)
        self.error = None
        self.show_workspaces()
        self.load_counts()

    @work(group="counts", exclusive=True, exit_on_error=False)
    async def load_counts(self) -> None:
        """Count configurations per workspace (one request)."""
        client = self.state.client
        if client is None:
            return
        llms = (await client.get_ai_llms()).ai_llms
        self.counts = Counter(llm.workspace_id for llm in llms)
        self.error = None
        self.show_workspaces()

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        self.error = error
        self.show_workspaces()
        super().on_worker_failed(worker, error)

    def show_workspaces(self) -> None:
        """Fill the table from the app's workspaces and the counts known so far."""
        app = self.state
        fill_header(self.query_one(HeaderBar), app)
        counts = self.counts
        rows = []
        if app.workspaces:
            total = str(sum(counts.values())) if counts is not None else "…"
            rows.append(TableRow(ALL_KEY, ("All workspaces", "", total),
                                 sort_values=("", "", -1), search="all workspaces"))
        for workspace in app.workspaces:
            role = app.role_label(workspace.id)
            count = counts.get(workspace.id, 0) if counts is not None else None
            rows.append(TableRow(
                workspace.id,
                (workspace.name, role or "?", "…" if count is None else str(count)),
                sort_values=(workspace.name.lower(), role, count or 0),
                styles=(None, None if role else "dim", None),
                search=workspace.name.lower(),
                data=workspace.name,
            ))
        self.table.set_rows(rows)
        empty = self.query_one("#empty", Static)
        message = ""
        if self.error is not None:
            report = describe_error(self.error, app.backend_label)
            message = f"{report.title}: {report.message} {report.hint} Press r to retry."
        elif app.connecting:
            message = f"Connecting to {app.backend_label}…"
        elif not app.workspaces and app.client is not None:
            message = "You are not a member of any workspace. Ask an admin to add you."
        empty.update(message)
        empty.display = bool(message)

    @on(FastTable.Selected, "#workspaces")
    def _open(self, event: FastTable.Selected) -> None:
        row = self.table.get_row(event.key)
        if row is None:
            return
        if event.key == ALL_KEY:
            self.post_message(OpenWorkspace(None, "All workspaces"))
        else:
            self.post_message(OpenWorkspace(event.key, str(row.data)))

    def action_stats(self) -> None:
        key = self.table.cursor_key
        row = self.table.get_row(key) if key else None
        if key is None or key == ALL_KEY or row is None:
            self.post_message(OpenStats(None, "All workspaces"))
        else:
            self.post_message(OpenStats(key, str(row.data)))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()
        self.table.cursor_row = 0

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.table.focus()
