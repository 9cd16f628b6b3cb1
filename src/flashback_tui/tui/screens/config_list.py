"""ConfigListScreen: the configurations of a workspace (or of all of them).

A :class:`ListScreen`: loads in a worker, refreshes itself, filters, sorts. Enter opens the
detail view; ``n``/``e``/``d``/``R`` write (hidden and explained where refused); ``v``/``V``
validate in the background with bounded concurrency, answers arriving in batches, a progress
bar, and a toast with the result or the summary; Esc cancels a run, clears the filter or goes
back. A list may start from a last-known list (``snapshot``), replaced in place by the live answer;
each live answer is posted up (``ConfigsShown``) to be kept as the next start's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar
from textual.worker import Worker

from flashback_tui.domain.validation import (
    ValidationOutcome,
    ValidationQueue,
    outcome_kind,
    summarize,
)
from flashback_tui.tui.config_rows import (
    Status,
    config_columns,
    config_row,
    same_models,
    status_of,
)
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.last_known import Mode, snapshot_rows
from flashback_tui.tui.messages import (
    ConfigSaved,
    ConfigsLoaded,
    ConfigsShown,
    OpenStats,
    ShowDetails,
    ShowPicker,
    ValidationResults,
    ValidationRunEnded,
    ValidationsFinished,
)
from flashback_tui.tui.screens.console_keys import ConsoleListScreen
from flashback_tui.tui.screens.list_screen import ListScreen, unreachable

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm
    from flashback_tui.snapshot import Snapshot
    from flashback_tui.tui.session_state import SessionState
    from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

#: How often a running validation posts the answers received so far (one batch).
FLUSH_INTERVAL = 0.1


class ConfigListScreen(ConsoleListScreen):
    """The configurations of one workspace (``workspace_id`` None: every workspace)."""

    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new", "edit", "delete", "rotate"})
    FILTER_PLACEHOLDER = "Filter by name, provider or endpoint (Enter: go to list, Esc: clear)"
    #: The key bar's order of importance.
    KEY_ORDER: ClassVar[tuple[str, ...]] = (
        "filter", "new", "edit", "validate", "validate_all", "delete", "stats", "workspaces",
        "toggle_available", "refresh", "rotate", "quit",
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("configs"),
        Binding("n", "new", "New", id="configs.new"),
        Binding("e", "edit", "Edit", id="configs.edit"),
        Binding("d", "delete", "Delete", id="configs.delete"),
        Binding("R", "rotate", "Rotate", id="configs.rotate"),
        Binding("v", "validate", "Validate", id="configs.validate"),
        Binding("V", "validate_all", "Validate all", id="configs.validate_all"),
        Binding("a", "toggle_available", "Available only", id="configs.available"),
        Binding("s", "stats", "Stats", id="configs.stats"),
    ]

    def __init__(self, state: SessionState, workspace_id: str | None, workspace_name: str,
                 *, pending: bool = False, snapshot: Snapshot | None = None) -> None:
        if snapshot is not None and pending:
            workspace_name = workspace_name or snapshot.workspace_name
        super().__init__(state, workspace_id,
                         workspace_name or ("All workspaces" if not pending else ""))
        self.pending = pending
        self.snapshot = snapshot
        if snapshot is not None:
            self.freshness.show_cached(snapshot.taken_at)
        self.available_only = False
        self._llms: dict[str, AiLlm] = {}
        self._available: set[str] | None = None
        self._outcomes: dict[str, ValidationOutcome] = {}
        #: The outcomes of the list last posted up to be kept (ConfigsShown).
        self._kept_outcomes: dict[str, ValidationOutcome] = {}
        self._validating: set[str] = set()
        self._validate_after_load: set[str] = set()
        self._select_after_load: str | None = None
        self._progress_total = 0
        self._progress_done = 0
        self._run_outcomes: list[ValidationOutcome] = []
        self._runs = 0

    # -- layout -------------------------------------------------------------------------------

    @property
    def several_workspaces(self) -> bool:
        """Whether rows come from more than one workspace (a Workspace column is shown)."""
        return self.workspace_id is None and len(self.state.workspaces) > 1

    def columns(self) -> Sequence[TableColumn]:
        return config_columns(self.several_workspaces)

    def compose_below_table(self) -> ComposeResult:
        with Horizontal(id="validation"):
            yield Label("", id="validation-label")
            yield ProgressBar(show_eta=False, id="validation-progress")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#validation").display = False
        if self.snapshot is not None:
            self.paint_cached(snapshot_rows(self.snapshot.rows), self.snapshot.taken_at)
        if self.state.client is not None and not self.pending:
            self.load()
        self.show_state()

    def on_session_ready(self, message: Any) -> None:
        if self.pending:
            self.refresh_bindings()
            self._resolve_pending()
        else:
            super().on_session_ready(message)

    def _resolve_pending(self) -> None:
        """Decide which workspace this startup list shows, or give way to the picker."""
        state = self.state
        wanted = state.profile.default_workspace if state.profile else None
        chosen = None
        if wanted:
            chosen = next((w for w in state.workspaces if wanted in (w.id, w.name)), None)
        if chosen is None and len(state.workspaces) == 1:
            chosen = state.workspaces[0]
        cached = self.snapshot.key.workspace if self.snapshot is not None else None
        if chosen is None and cached is not None:
            chosen = next((w for w in state.workspaces if w.id == cached), None)
        if chosen is None or chosen.id != cached:
            self.drop_cached()
        if chosen is None:
            if self.is_current:
                self.post_message(ShowPicker())
            return
        self.workspace_id, self.workspace_name, self.pending = chosen.id, chosen.name, False
        self.update_header()
        self.load()

    # -- loading ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.pending and self.state.client is not None:
            self._resolve_pending()
            return
        super().action_refresh()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the configurations (and availability when the platform sends no status)."""
        client = self.state.client
        if client is None or self.pending:
            return
        if self.available_only:
            answer = await client.get_available_ai_llms()
            llms = [x for x in answer.ai_llms
                    if self.workspace_id is None or x.workspace_id == self.workspace_id]
            available: set[str] | None = {x.id for x in llms}
        else:
            llms = list((await client.get_ai_llms(self.workspace_id)).ai_llms)
            available = None
            if any(x.validation_status is None for x in llms):
                available = {x.id for x in (await client.get_available_ai_llms()).ai_llms}
        self.post_message(ConfigsLoaded(llms, available))

    def on_configs_loaded(self, message: ConfigsLoaded) -> None:
        self.show_configs(message.llms, message.available)
        due = [i for i in self._validate_after_load if i in self._llms]
        self._validate_after_load.difference_update(due)
        self.start_validation(due)
        chosen, self._select_after_load = self._select_after_load, None
        if chosen is not None and chosen in self._llms:
            if self.table.get_row(chosen) is not None and chosen not in {
                    r.key for r in self.table.visible_rows}:
                self.clear_filter()
            self.table.move_cursor_to_key(chosen)

    def show_configs(self, llms: list[AiLlm], available: set[str] | None = None) -> None:
        """Put these configurations on screen, updating rows in place when possible. The very
        models on screen (a parsed answer the client reuses after a 304) only confirm them."""
        same = self.loaded and available == self._available and same_models(
            llms, self._llms, self.table.keys)
        if same:
            self.rows_are_live()
        else:
            for llm in llms:
                if llm.validation_status is not None:
                    self._outcomes.pop(llm.id, None)
            self._llms, self._available = {llm.id: llm for llm in llms}, available
            if self.several_workspaces != (len(self.table.columns) > 7):
                self.table.set_columns(self.columns())
            self.show_rows(self._row(llm) for llm in llms)
        if not self.available_only and not (same and self._outcomes == self._kept_outcomes):
            self._kept_outcomes = dict(self._outcomes)
            self.post_message(ConfigsShown(self.workspace_id, self.workspace_name, llms,
                                           dict(self._outcomes), available))

    @property
    def configs(self) -> list[AiLlm]:
        """The configurations loaded, in the order the platform sent them."""
        return list(self._llms.values())

    def _row(self, llm: AiLlm) -> TableRow:
        workspace = self.state.workspace_name(llm.workspace_id) \
            if self.several_workspaces else None
        return config_row(llm, self.status(llm), workspace)

    def status(self, llm: AiLlm) -> Status:
        """What the Status column shows for ``llm`` now."""
        return status_of(llm, validating=llm.id in self._validating,
                         outcome=self._outcomes.get(llm.id), available=self._available)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if worker.group == "load" and unreachable(error):
            self.went_offline(error)
            return
        if worker.group == "load":
            self.load_failed(error)
        super().on_worker_failed(worker, error)

    # -- state lines --------------------------------------------------------------------------

    def state_text(self) -> str:
        if self.load_error is not None:
            report = describe_error(self.load_error, self.state.backend_label)
            retry = (" Retrying automatically; press r to retry now."
                     if self.retrying else " Press r to retry.")
            if unreachable(self.load_error):
                reason = self.unreachable_reason(self.load_error)
                hint = "" if self.state.local else f" {report.hint}"
                return f"{report.title}: {reason}.{hint}{retry}"
            return f"{report.title}: {report.message} {report.hint}{retry}"
        if self.loaded and self.table.total_count and not self.table.row_count:
            return "No configuration matches the filter. Press Esc to clear it."
        if not self.loaded and not self.state.connecting:
            return "Loading configurations…"
        return super().state_text()

    def empty_text(self) -> str:
        if self.available_only:
            return "No configuration is available (validated and active). Press a to show all."
        where = self.workspace_name or "this workspace"
        if self.state.can_write(self.workspace_id):
            return f"No configurations in {where} yet. Press n to add the first one."
        return f"No configurations in {where} yet."

    def detail_text(self, key: str | None) -> str:
        """The selected row's full status first, then who uses it, then the count."""
        parts = []
        llm = self._llms.get(key) if key else None
        if llm is not None:
            status = self.status(llm)
            full = status.detail if status.detail and status.style == "invalid" else ""
            line = f"{llm.name}: {full or status.label}"
            if llm.repos:
                line += f" · used by {', '.join(r.name for r in llm.repos)}"
            parts.append(line)
        if self.loaded or self.freshness.mode is not Mode.NONE:
            table = self.table
            count = (f"{table.row_count} of {table.total_count}"
                     if table.row_count != table.total_count else f"{table.total_count}")
            parts.append(f"{count} configuration{'s' if table.total_count != 1 else ''}")
        if self.available_only:
            parts.append("available only")
        return " · ".join(parts)

    def row_workspace(self, key: str | None) -> str | None:
        llm = self._llms.get(key) if key else None
        return llm.workspace_id if llm is not None else self.workspace_id

    # -- opening, filtering -------------------------------------------------------------------

    def open_row(self, key: str) -> None:
        llm = self._llms.get(key)
        if llm is not None:
            status = self.status(llm) if llm.id in self._outcomes else None
            text = (status.detail or status.label) if status is not None else ""
            self.post_message(ShowDetails(llm, text))

    def action_toggle_available(self) -> None:
        self.available_only = not self.available_only
        self.loaded = False
        self.table.set_rows([])
        self.show_state()
        self.load()

    def action_escape(self) -> None:
        """Cancel validation, else clear the filter, else go back to the workspaces."""
        if self._validating:
            self.cancel_validation()
            return
        super().action_escape()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("validate", "validate_all", "toggle_available", "stats"):
            return not self.pending and (self.loaded or self.state.client is not None)
        if action in self.WRITE_ACTIONS and self.pending:
            return False
        return super().check_action(action, parameters)

    # -- writes -------------------------------------------------------------------------------

    @property
    def selected(self) -> AiLlm | None:
        """The configuration under the cursor."""
        key = self.table.cursor_key
        return self._llms.get(key) if key else None

    def _taken_names(self) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {}
        for llm in self._llms.values():
            names.setdefault(llm.workspace_id, set()).add(llm.name.casefold())
        return names

    def action_new(self) -> None:
        from flashback_tui.tui.screens.config_form import ConfigFormScreen

        if self.state.client is None:
            return
        self.app.push_screen(
            ConfigFormScreen(self.state, None, workspaces=self.state.writable_workspaces(),
                             default_workspace_id=self.workspace_id,
                             taken_names=self._taken_names()),
            self._after_save,
        )

    def action_edit(self) -> None:
        from flashback_tui.tui.screens.config_form import ConfigFormScreen

        llm = self.selected
        if llm is not None and self.state.client is not None:
            self.app.push_screen(ConfigFormScreen(self.state, llm,
                                                  taken_names=self._taken_names()),
                                 self._after_save)

    def action_rotate(self) -> None:
        from flashback_tui.tui.screens.config_form import RotateSecretDialog

        llm = self.selected
        if llm is not None and self.state.client is not None:
            self.app.push_screen(RotateSecretDialog(self.state, llm), self._after_save)

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog

        llm = self.selected
        if llm is None or self.state.client is None:
            return

        def deleted(done: bool | None) -> None:
            if done:
                self.notify(f"Deleted {llm.name}.")
                self.load()

        self.app.push_screen(DeleteConfigDialog(self.state, llm), deleted)

    def _after_save(self, saved: ConfigSaved | None) -> None:
        if saved is None:
            return
        verb = "Created" if saved.created else "Saved"
        self.notify(f"{verb}; validating in the background.")
        self._outcomes.pop(saved.ai_llm_id, None)
        self._validate_after_load.add(saved.ai_llm_id)
        if saved.created:
            self._select_after_load = saved.ai_llm_id
        self.load()

    def action_stats(self) -> None:
        self.post_message(OpenStats(self.workspace_id, self.workspace_name))

    # -- validation ---------------------------------------------------------------------------

    def action_validate(self) -> None:
        llm = self.selected
        if llm is not None:
            self.start_validation([llm.id])

    def action_validate_all(self) -> None:
        self.start_validation([row.key for row in self.table.visible_rows])

    def start_validation(self, ids: list[str]) -> None:
        """Validate these configurations in the background (bounded concurrency)."""
        running = self._runs > 0
        ids = [i for i in dict.fromkeys(ids) if i not in self._validating or not running]
        if self.state.client is None or not ids:
            return
        if not running:
            self._progress_total = self._progress_done = 0
            self._run_outcomes = []
        self._validating.update(ids)
        self._progress_total += len(ids)
        self.table.update_rows(self._row(self._llms[i]) for i in ids if i in self._llms)
        self._show_progress()
        self._runs += 1
        self._validate(ids)

    @work(group="validate", exit_on_error=False)
    async def _validate(self, ids: list[str]) -> None:
        """Run the validations; answers are posted in batches, at most every FLUSH_INTERVAL."""
        client = self.state.client
        assert client is not None
        pending: list[ValidationOutcome] = []
        queue = ValidationQueue(client, self.state.validation_concurrency)
        run = asyncio.ensure_future(queue.run(ids, pending.append))
        try:
            while not run.done():
                await asyncio.wait([run], timeout=FLUSH_INTERVAL)
                if pending:
                    batch, pending[:] = list(pending), []
                    self.post_message(ValidationResults(batch))
            run.result()
        finally:
            run.cancel()
            if pending:
                self.post_message(ValidationResults(list(pending)))
        self.post_message(ValidationRunEnded())

    def on_validation_results(self, message: ValidationResults) -> None:
        """Apply one batch of answers in one table update."""
        batch = [o for o in message.outcomes if o.ai_llm_id in self._validating]
        for outcome in batch:
            self._validating.discard(outcome.ai_llm_id)
            self._outcomes[outcome.ai_llm_id] = outcome
        self._run_outcomes.extend(batch)
        self._progress_done += len(batch)
        self.table.update_rows(self._row(self._llms[o.ai_llm_id]) for o in batch
                               if o.ai_llm_id in self._llms)
        self._show_progress()
        self.show_detail()

    def on_validation_run_ended(self, _: ValidationRunEnded) -> None:
        self._runs = max(self._runs - 1, 0)
        if self._runs == 0:
            self._finish_validation()

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
        self._runs = 0
        outcomes, self._run_outcomes = self._run_outcomes, []
        self.table.update_rows(self._row(self._llms[i]) for i in leftover if i in self._llms)
        self.query_one("#validation").display = False
        self.show_detail()
        summary = summarize(outcomes, cancelled=len(leftover) if cancelled else 0)
        if not outcomes and not leftover:
            return
        self.post_message(ValidationsFinished(summary, len(outcomes) + len(leftover),
                                              cancelled))
        if len(outcomes) == 1 and not leftover:
            outcome = outcomes[0]
            llm = self._llms.get(outcome.ai_llm_id)
            name = llm.name if llm is not None else outcome.ai_llm_id
            label = self.status(llm).label if llm is not None else outcome.message
            severity = "information" if outcome.success else "error"
            self.notify(f"{name}: {label}", title=f"Validation: {outcome_kind(outcome)}",
                        severity=severity)
            return
        title = "Validation cancelled" if cancelled else "Validation finished"
        self.notify(summary.text, title=title,
                    severity="information" if summary.valid == len(outcomes) else "warning")
