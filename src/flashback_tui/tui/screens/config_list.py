"""ConfigListScreen: the main screen, the configurations of a workspace (or of all of them).

Loads in a worker and fills a :class:`FastTable`; refreshes update rows in place; `/` filters
as you type; `a` shows only available configurations; `v`/`V` validate in the background
with bounded concurrency and a progress bar; Esc cancels, clears the filter or goes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from flashback_tui.api.errors import FlashbackConnectionError, FlashbackTimeoutError
from flashback_tui.tui.config_rows import CONFIG_COLUMNS, Status, config_row, status_of
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import ConfigSaved, SessionReady
from flashback_tui.tui.screens.base import BaseScreen
from flashback_tui.tui.validation import ValidationOutcome, ValidationQueue
from flashback_tui.tui.widgets.fast_table import FastTable, TableRow
from flashback_tui.tui.widgets.header_bar import HeaderBar
from flashback_tui.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm
    from flashback_tui.tui.app import FlashbackApp

WRITE_ACTIONS = frozenset({"new", "edit", "delete", "rotate"})
#: Actions that need a workspace and a session.
DATA_ACTIONS = frozenset({"validate", "validate_all", "toggle_available", "stats"})
#: Seconds between retries while the backend is unreachable (doubling up to the maximum).
RETRY_FIRST, RETRY_MAX = 2.0, 15.0
#: How often validation answers are applied to the table (they are batched).
FLUSH_INTERVAL = 0.1


class ConfigListScreen(BaseScreen):
    """The configurations of one workspace (``workspace_id`` None: every workspace)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="configs.filter"),
        Binding("escape", "escape", "Back", show=False, id="configs.back"),
        Binding("n", "new", "New", id="configs.new"),
        Binding("e", "edit", "Edit", id="configs.edit"),
        Binding("d", "delete", "Delete", id="configs.delete"),
        Binding("R", "rotate", "Rotate", id="configs.rotate"),
        Binding("v", "validate", "Validate", id="configs.validate"),
        Binding("V", "validate_all", "Validate all", id="configs.validate_all"),
        Binding("a", "toggle_available", "Available only", id="configs.available"),
        Binding("r", "refresh", "Refresh", id="configs.refresh"),
        Binding("s", "stats", "Stats", id="configs.stats"),
    ]

    def __init__(self, workspace_id: str | None, workspace_name: str, *,
                 pending: bool = False) -> None:
        super().__init__()
        self.workspace_id = workspace_id
        self.workspace_name = workspace_name or ("All workspaces" if not pending else "")
        self.pending = pending
        self.available_only = False
        self.loaded = False
        self.load_error: BaseException | None = None
        self._llms: dict[str, AiLlm] = {}
        self._available: set[str] | None = None
        self._outcomes: dict[str, ValidationOutcome] = {}
        self._validating: set[str] = set()
        self._validate_after_load: set[str] = set()
        self._pending_outcomes: list[ValidationOutcome] = []
        self._progress_total = 0
        self._progress_done = 0
        self._flush_timer: Timer | None = None
        self._retry_timer: Timer | None = None
        self._retry_delay = RETRY_FIRST

    @property
    def flashback(self) -> FlashbackApp:
        return self.app  # type: ignore[return-value]

    # ----------------------------------------------------------------------------------------
    # Layout
    # ----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Input(placeholder="Filter by name, provider or endpoint (Enter: go to list, "
                    "Esc: clear)", id="filter", compact=True)
        yield Static("", id="empty")
        yield FastTable(CONFIG_COLUMNS, id="configs")
        with Horizontal(id="validation"):
            yield Label("", id="validation-label")
            yield ProgressBar(show_eta=False, id="validation-progress")
        yield Static("", id="detail")
        yield KeyBar()

    @property
    def table(self) -> FastTable:
        return self.query_one("#configs", FastTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#validation").display = False
        self._flush_timer = self.set_interval(FLUSH_INTERVAL, self._flush_outcomes, pause=True)
        self._update_header()
        self.table.focus()
        if self.flashback.client is not None and not self.pending:
            self.load()
        self._show_state()

    def on_session_ready(self, _: SessionReady) -> None:
        self.refresh_bindings()
        self._update_header()
        if self.pending:
            self._resolve_pending()
        else:
            self.load()

    def on_session_failed(self, error: BaseException) -> None:
        self.load_error = error
        self.refresh_bindings()
        self._show_state()

    def _resolve_pending(self) -> None:
        """Decide which workspace this startup list shows, or give way to the picker."""
        app = self.flashback
        wanted = app.profile.default_workspace
        chosen = None
        if wanted:
            chosen = next((w for w in app.workspaces if wanted in (w.id, w.name)), None)
        if chosen is None and len(app.workspaces) == 1:
            chosen = app.workspaces[0]
        if chosen is None:
            self.dismiss_to_picker()
            return
        self.workspace_id, self.workspace_name, self.pending = chosen.id, chosen.name, False
        self._update_header()
        self.load()

    def dismiss_to_picker(self) -> None:
        """Leave this screen for the workspace picker."""
        if self.is_current:
            self.flashback.show_picker()

    def _update_header(self) -> None:
        app = self.flashback
        header = self.query_one(HeaderBar)
        app.fill_header(header)
        header.workspace = self.workspace_name
        header.role = app.role_label(self.workspace_id) if self.workspace_id else ""

    # ----------------------------------------------------------------------------------------
    # Loading
    # ----------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Reload the list (or reconnect when the session never opened)."""
        app = self.flashback
        if app.client is None or self.pending:
            app.reconnect()  # the session (or its list of workspaces) never came up
            return
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the configurations (and availability when the server has no status)."""
        client = self.flashback.client
        if client is None:
            return
        if self.available_only:
            answer = await client.get_available_ai_llms()
            llms = [x for x in answer.ai_llms
                    if self.workspace_id is None or x.workspace_id == self.workspace_id]
            available: set[str] | None = {x.id for x in llms}
        else:
            llms = (await client.get_ai_llms(self.workspace_id)).ai_llms
            available = None
            if any(x.validation_status is None for x in llms):
                available = {x.id for x in (await client.get_available_ai_llms()).ai_llms}
        self.show_configs(llms, available)
        due = [i for i in self._validate_after_load if i in self._llms]
        self._validate_after_load.difference_update(due)
        self.start_validation(due)

    def show_configs(self, llms: list[AiLlm], available: set[str] | None = None) -> None:
        """Put these configurations on screen, updating rows in place when possible."""
        self.loaded = True
        self.load_error = None
        self._stop_retrying()
        for llm in llms:
            if llm.validation_status is not None:
                self._outcomes.pop(llm.id, None)
        self._llms = {llm.id: llm for llm in llms}
        self._available = available
        rows = [self._row(llm) for llm in llms]
        table = self.table
        if table.keys == [row.key for row in rows]:
            table.update_rows(row for row in rows if table.get_row(row.key) != row)
        else:
            table.set_rows(rows)
        self._show_state()

    def _row(self, llm: AiLlm) -> TableRow:
        return config_row(llm, self._status(llm))

    def _status(self, llm: AiLlm) -> Status:
        return status_of(llm, validating=llm.id in self._validating,
                         outcome=self._outcomes.get(llm.id), available=self._available)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if worker.group == "load":
            self.load_error = error
            if isinstance(error, FlashbackConnectionError | FlashbackTimeoutError):
                self._retry_later()
                self._show_state()
                return
            self._show_state()
        super().on_worker_failed(worker, error)

    def _retry_later(self) -> None:
        if self._retry_timer is None:
            self._retry_timer = self.set_timer(self._retry_delay, self._retry)

    def _retry(self) -> None:
        self._retry_timer = None
        self._retry_delay = min(self._retry_delay * 2, RETRY_MAX)
        self.load()

    def _stop_retrying(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        self._retry_delay = RETRY_FIRST

    # ----------------------------------------------------------------------------------------
    # State lines: empty state, errors, details of the selected row
    # ----------------------------------------------------------------------------------------

    def _show_state(self) -> None:
        empty = self.query_one("#empty", Static)
        table = self.table
        message = self._empty_message()
        empty.update(message)
        empty.display = bool(message) and table.row_count == 0
        if self.load_error is not None and table.total_count:
            empty.display = True
        self._show_detail()

    def _empty_message(self) -> str:
        app = self.flashback
        if self.load_error is not None:
            report = describe_error(self.load_error, app.backend_label)
            retry = (" Retrying automatically; press r to retry now."
                     if self._retry_timer is not None else " Press r to retry.")
            return f"{report.title}: {report.message} {report.hint}{retry}"
        if not self.loaded:
            if app.connecting:
                return f"Connecting to {app.backend_label}…"
            return "Loading configurations…"
        table = self.table
        if table.total_count == 0:
            if self.available_only:
                return "No configuration is available (validated and active). Press a to " \
                       "show all."
            where = self.workspace_name or "this workspace"
            if app.can_write(self.workspace_id):
                return f"No configurations in {where} yet. Press n to add the first one."
            return f"No configurations in {where} yet."
        if table.row_count == 0:
            return "No configuration matches the filter. Press Esc to clear it."
        return ""

    def _show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        table = self.table
        parts = []
        if self.loaded:
            count = (f"{table.row_count} of {table.total_count}"
                     if table.row_count != table.total_count else f"{table.total_count}")
            parts.append(f"{count} configuration{'s' if table.total_count != 1 else ''}")
        if self.available_only:
            parts.append("available only")
        key = table.cursor_key
        llm = self._llms.get(key) if key else None
        if llm is not None:
            status = self._status(llm)
            line = f"{llm.name}: {status.detail or status.label}"
            if llm.repos:
                line += f" · used by {', '.join(r.name for r in llm.repos)}"
            parts.append(line)
        detail.update(" · ".join(parts), layout=False)  # one line, fixed height

    def on_fast_table_highlighted(self, _: FastTable.Highlighted) -> None:
        self._show_detail()
        if self.workspace_id is None:
            self.refresh_bindings()  # write access depends on the row's workspace

    def on_fast_table_selected(self, _: FastTable.Selected) -> None:
        if self.check_action("edit", ()):
            self.action_edit()

    # ----------------------------------------------------------------------------------------
    # Filter and availability
    # ----------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._show_state()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        table = self.table
        table.focus()
        table.cursor_row = 0

    def clear_filter(self) -> None:
        """Empty and hide the filter box; focus the table."""
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.table.focus()
        self._show_state()

    def action_toggle_available(self) -> None:
        self.available_only = not self.available_only
        self.loaded = False
        self.table.set_rows([])
        self._show_state()
        self.load()

    def action_escape(self) -> None:
        """Cancel validation, else clear the filter, else go back to the workspaces."""
        if self._validating:
            self.cancel_validation()
            return
        box = self.query_one("#filter", Input)
        if box.display or box.value:
            self.clear_filter()
            return
        self.flashback.show_picker()

    # ----------------------------------------------------------------------------------------
    # Write actions
    # ----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DATA_ACTIONS:
            return not self.pending and (self.loaded or self.flashback.client is not None)
        if action in WRITE_ACTIONS:
            if self.pending:
                return False
            if action == "new":
                return self.flashback.can_write(self.workspace_id)
            llm = self.selected
            workspace = llm.workspace_id if llm else self.workspace_id
            return self.flashback.can_write(workspace)
        return True

    @property
    def selected(self) -> AiLlm | None:
        """The configuration under the cursor."""
        key = self.table.cursor_key
        return self._llms.get(key) if key else None

    def action_new(self) -> None:
        from flashback_tui.tui.screens.config_form import ConfigFormScreen

        app = self.flashback
        if app.client is None:
            return
        self.app.push_screen(
            ConfigFormScreen(None, workspaces=app.writable_workspaces(),
                             default_workspace_id=self.workspace_id),
            self._after_save,
        )

    def action_edit(self) -> None:
        from flashback_tui.tui.screens.config_form import ConfigFormScreen

        llm = self.selected
        if llm is None or self.flashback.client is None:
            return
        self.app.push_screen(ConfigFormScreen(llm), self._after_save)

    def action_rotate(self) -> None:
        from flashback_tui.tui.screens.config_form import RotateSecretDialog

        llm = self.selected
        if llm is None or self.flashback.client is None:
            return
        self.app.push_screen(RotateSecretDialog(llm), self._after_save)

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog

        llm = self.selected
        if llm is None or self.flashback.client is None:
            return

        def deleted(done: bool | None) -> None:
            if done:
                self.notify(f"Deleted {llm.name}.")
                self.load()

        self.app.push_screen(DeleteConfigDialog(llm), deleted)

    def _after_save(self, saved: ConfigSaved | None) -> None:
        if saved is None:
            return
        verb = "Created" if saved.created else "Saved"
        self.notify(f"{verb}; validating in the background.")
        self._outcomes.pop(saved.ai_llm_id, None)
        self._validate_after_load.add(saved.ai_llm_id)
        self.load()

    def action_stats(self) -> None:
        self.flashback.open_stats(self.workspace_id, self.workspace_name)

    # ----------------------------------------------------------------------------------------
    # Validation
    # ----------------------------------------------------------------------------------------

    def action_validate(self) -> None:
        llm = self.selected
        if llm is not None:
            self.start_validation([llm.id])

    def action_validate_all(self) -> None:
        self.start_validation([row.key for row in self.table.visible_rows])

    def start_validation(self, ids: list[str]) -> None:
        """Validate these configurations in the background (bounded concurrency)."""
        client = self.flashback.client
        ids = [i for i in dict.fromkeys(ids) if i not in self._validating or
               not self._is_running()]
        if client is None or not ids:
            return
        if not self._is_running():
            self._progress_total = self._progress_done = 0
        self._validating.update(ids)
        self._progress_total += len(ids)
        self.table.update_rows(self._row(self._llms[i]) for i in ids if i in self._llms)
        self._show_progress()
        assert self._flush_timer is not None
        self._flush_timer.resume()
        self._validate(ids)

    def _is_running(self) -> bool:
        return any(w.node is self and w.group == "validate" and w.is_running
                   for w in self.workers)

    @work(group="validate", exit_on_error=False)
    async def _validate(self, ids: list[str]) -> None:
        client = self.flashback.client
        assert client is not None
        queue = ValidationQueue(client, self.flashback.profile.validation_concurrency)
        await queue.run(ids, self._receive_outcome)

    def _receive_outcome(self, outcome: ValidationOutcome) -> None:
        """Keep an answer for the next batched flush (many may arrive per frame)."""
        self._pending_outcomes.append(outcome)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "validate" and event.state in (
            WorkerState.SUCCESS, WorkerState.CANCELLED, WorkerState.ERROR
        ):
            self._flush_outcomes()
            if not self._is_running():
                self._finish_validation()

    def _flush_outcomes(self) -> None:
        """Apply the answers received since the last flush, in one table update."""
        batch, self._pending_outcomes = self._pending_outcomes, []
        if not batch:
            return
        for outcome in batch:
            self._validating.discard(outcome.ai_llm_id)
            self._outcomes[outcome.ai_llm_id] = outcome
        self._progress_done += len(batch)
        self.table.update_rows(self._row(self._llms[o.ai_llm_id]) for o in batch
                               if o.ai_llm_id in self._llms)
        self._show_progress()
        self._show_detail()

    def _show_progress(self) -> None:
        box = self.query_one("#validation")
        if box.display != bool(self._validating):
            box.display = bool(self._validating)
        self.query_one("#validation-label", Label).update(
            f"Validating {self._progress_done}/{self._progress_total} · Esc cancels ",
            layout=False,  # fixed width in app.tcss
        )
        self.query_one("#validation-progress", ProgressBar).update(
            total=max(self._progress_total, 1), progress=self._progress_done
        )

    def cancel_validation(self) -> None:
        """Stop the validations still waiting or in flight."""
        self.workers.cancel_group(self, "validate")
        self._finish_validation(cancelled=True)

    def _finish_validation(self, cancelled: bool = False) -> None:
        leftover, self._validating = self._validating, set()
        if self._flush_timer is not None:
            self._flush_timer.pause()
        self.table.update_rows(self._row(self._llms[i]) for i in leftover if i in self._llms)
        self.query_one("#validation").display = False
        if cancelled and leftover:
            self.notify(f"Validation cancelled; {len(leftover)} not validated.")
        self._show_detail()
