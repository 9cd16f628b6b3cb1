"""ViolationListScreen: policy violations (or alerts), newest first, one page at a time.

``]``/``[`` turn pages (the total is shown), ``f`` opens the filters (severity, blocked only,
repository, policy, model, host, time range), ``t`` switches between violations and alerts,
Enter opens a row's details. Opened from the dashboard's tiles already filtered, from a policy
(its own violations), from the configuration list (``x``) and the command palette.

The filters dialog picks a repository or policy by name: the screen loads the choices (the
repositories and policies of its workspace, or of every workspace) in a worker each time the
dialog opens, and hands them in when they come; the line in force names them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.api.models import ViolationFilters
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.policy_scope import FilterChoices, filter_choices, load_scope
from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.screens.violation_filters import (
    UNKNOWN,
    ViolationDetailDialog,
    ViolationFiltersDialog,
    describe_filters,
    wire_filters,
)
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from textual.worker import Worker

    from flashback_tui.api.models import Alert, Violation
    from flashback_tui.tui.session_state import SessionState

#: Rows per page.
PAGE_SIZE = 50
SEVERITY_STYLES = {"HIGH": "invalid", "MEDIUM": "pending", "LOW": "valid"}

VIOLATION_COLUMNS = (
    TableColumn("Time", min_width=16, priority=0, max_width=16),
    TableColumn("Policy", min_width=10, priority=0, max_width=24, flex=1),
    TableColumn("Severity", min_width=6, priority=1, max_width=8),
    TableColumn("Blocked", min_width=7, priority=1, max_width=7),
    TableColumn("Repository", min_width=8, priority=2, max_width=20, flex=1),
    TableColumn("Model", min_width=6, priority=3, max_width=20, flex=1),
)
ALERT_COLUMNS = (
    TableColumn("Time", min_width=16, priority=0, max_width=16),
    TableColumn("Policy", min_width=10, priority=0, max_width=24, flex=1),
    TableColumn("Repository", min_width=8, priority=2, max_width=20, flex=1),
    TableColumn("Model", min_width=6, priority=3, max_width=20, flex=1),
    TableColumn("Message", min_width=10, priority=1, flex=2),
)


def when(item: Violation | Alert) -> str:
    """The time of a row, to the minute, as the platform sent it (UTC)."""
    return item.timestamp.strftime("%Y-%m-%d %H:%M")


def violation_row(item: Violation) -> TableRow:
    """One violation as a row; severity in its colour."""
    severity = str(item.severity or "")
    return TableRow(item.id, (when(item), item.policy_name, severity,
                              "blocked" if item.block else "", item.repo_name, item.llm_model),
                    (item.timestamp, item.policy_name.lower(), severity, item.block,
                     item.repo_name.lower(), item.llm_model),
                    ("dim", None, SEVERITY_STYLES.get(severity), "invalid", None, "dim"),
                    f"{item.policy_name}\n{item.repo_name}\n{item.llm_model}".lower(), item)


def alert_row(item: Alert) -> TableRow:
    """One alert as a row."""
    return TableRow(item.id, (when(item), item.policy_name, item.repo_name, item.llm_model,
                              item.message),
                    (item.timestamp, item.policy_name.lower(), item.repo_name.lower(),
                     item.llm_model, item.message),
                    ("dim", None, None, "dim", None),
                    f"{item.policy_name}\n{item.repo_name}\n{item.message}".lower(), item)


@dataclass
class PageLoaded(Message):
    """One page of rows and the total that match the filters."""

    items: list[Any]
    total: int


@dataclass
class ChoicesLoaded(Message):
    """The repositories and policies the filters can pick from."""

    choices: FilterChoices


class ViolationListScreen(ListScreen):
    """Violations or alerts of a workspace (None: every workspace), paged and filtered."""

    ID_PREFIX = "violations"
    FILTER_PLACEHOLDER = "Filter this page (Enter: go to list, Esc: clear); f: all filters"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("filters", "next_page", "previous_page",
                                            "switch_kind", "filter", "refresh", "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("violations"),
        Binding("f", "filters", "Filters", id="violations.filters"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]",
                id="violations.next"),
        Binding("left_square_bracket", "previous_page", "Prev page", key_display="[",
                id="violations.previous"),
        Binding("t", "switch_kind", "Alerts/violations", id="violations.kind"),
    ]

    def __init__(self, state: SessionState, workspace_id: str | None, workspace_name: str,
                 *, kind: str = "violations", filters: ViolationFilters | None = None) -> None:
        super().__init__(state, workspace_id, workspace_name or "All workspaces")
        self.kind = kind
        self.filters = filters or ViolationFilters()
        self.page = 0
        self.total = 0
        self._items: dict[str, Any] = {}
        #: What the filters can pick from (None until loaded), and why they did not load.
        self.choices: FilterChoices | None = None
        self.choices_problem = ""
        self._choices_asked = False
        self._dialog: ViolationFiltersDialog | None = None

    @property
    def alerts(self) -> bool:
        """Whether this lists alerts rather than violations."""
        return self.kind == "alerts"

    def columns(self) -> Sequence[TableColumn]:
        return ALERT_COLUMNS if self.alerts else VIOLATION_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    def update_header(self) -> None:
        super().update_header()
        from flashback_tui.tui.widgets.header_bar import HeaderBar

        self.query_one(HeaderBar).workspace = f"{self.workspace_name}: {self.kind}"

    def page_filters(self) -> ViolationFilters:
        """The filters with this screen's workspace and page."""
        return wire_filters(self.filters).model_copy(update={
            "workspace_id": self.workspace_id, "take": PAGE_SIZE, "skip": self.page * PAGE_SIZE})

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the current page."""
        client = self.state.client
        if client is None:
            return
        filters = self.page_filters()
        policy = filters.policy_id
        if self.alerts:
            answer: Any = (await client.get_policy_alerts_by_policy_id(policy, filters) if policy
                           else await client.get_policy_alerts(filters))
            self.post_message(PageLoaded(list(answer.alerts), answer.total))
        else:
            answer = (await client.get_policy_violations_by_policy_id(policy, filters)
                      if policy else await client.get_policy_violations(filters))
            self.post_message(PageLoaded(list(answer.violations), answer.total))

    def on_page_loaded(self, message: PageLoaded) -> None:
        self.total = message.total
        self._items = {item.id: item for item in message.items}
        make = alert_row if self.alerts else violation_row
        self.show_rows(make(item) for item in message.items)
        if (self.filters.repo_id or self.filters.policy_id) and not self._choices_asked:
            self.ask_choices()  # the line in force names them

    @property
    def items(self) -> list[Any]:
        """The rows of the current page (violations or alerts)."""
        return list(self._items.values())

    @property
    def page_count(self) -> int:
        """Pages that the total fills (at least one)."""
        return max(1, -(-self.total // PAGE_SIZE))

    def filter_summary(self) -> str:
        """The filters in force, in a few words (repository and policy by name)."""
        waiting = self.choices is None and not self.choices_problem
        return describe_filters(self.filters, alerts=self.alerts, names=self.names(),
                                unknown="…" if waiting else UNKNOWN)

    def names(self) -> dict[str, dict[str, str]]:
        """Repository and policy names by id: the choices', else this page's rows'."""
        names = {"repo_id": {i.repo_id: i.repo_name for i in self._items.values()},
                 "policy_id": {i.policy_id: i.policy_name for i in self._items.values()}}
        for field, known in (self.choices.names if self.choices else {}).items():
            names.setdefault(field, {}).update(known)
        return names

    # -- the choices of the filters -------------------------------------------------------------

    def ask_choices(self) -> None:
        """Load the choices (they come in :class:`ChoicesLoaded`), or say why they cannot."""
        self._choices_asked = True
        if self.state.client is None:
            self.choices_failed("Not connected to the platform yet.")
        else:
            self.load_choices()

    @work(group="choices", exclusive=True, exit_on_error=False)
    async def load_choices(self) -> None:
        """Fetch the repositories and policies of this list's workspace (or of all)."""
        client = self.state.client
        if client is None:
            return
        scope = await load_scope(client, self.workspace_id)
        self.post_message(ChoicesLoaded(filter_choices(scope, self.state.workspace_name)))

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices, self.choices_problem = message.choices, ""
        if self._dialog is not None:
            self._dialog.show_choices(message.choices)
        self.show_state()

    def choices_failed(self, reason: str) -> None:
        """The choices did not load: the dialog says so beside them; the line says unknown."""
        self.choices_problem = reason
        if self._dialog is not None:
            self._dialog.choices_failed(reason)
        self.show_state()

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if worker.group == "choices":
            self.choices_failed(describe_error(error, self.state.backend_label).message)
            return
        super().on_worker_failed(worker, error)

    def empty_text(self) -> str:
        summary = self.filter_summary()
        return f"No {self.kind}" + (f" with {summary}." if summary else " yet.")

    def detail_text(self, key: str | None) -> str:
        first = self.page * PAGE_SIZE + 1
        last = self.page * PAGE_SIZE + len(self._items)
        shown = f"{first}-{last} of {self.total} {self.kind}" if self._items else \
            f"{self.total} {self.kind}"
        parts = [shown, f"page {self.page + 1}/{self.page_count}"]
        summary = self.filter_summary()
        if summary:
            parts.append(summary)
        return " · ".join(parts)

    # -- paging, filters, details -------------------------------------------------------------

    def action_next_page(self) -> None:
        if self.page + 1 < self.page_count:
            self.page += 1
            self.load()

    def action_previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self.load()

    def action_switch_kind(self) -> None:
        self.kind = "violations" if self.alerts else "alerts"
        self.page, self.loaded = 0, False
        self.table.set_rows([])
        self.table.set_columns(self.columns())
        self.update_header()
        self.load()

    def action_filters(self) -> None:
        dialog = ViolationFiltersDialog(self.filters, alerts=self.alerts, choices=self.choices,
                                        known=self.names())

        def chosen(filters: ViolationFilters | None) -> None:
            self._dialog = None
            if filters is not None:
                self.filters, self.page = filters, 0
                self.load()

        self._dialog = dialog
        self.app.push_screen(dialog, chosen)
        self.ask_choices()  # fresh each time; the ones already here are shown meanwhile

    def open_row(self, key: str) -> None:
        item = self._items.get(key)
        if item is not None:
            self.app.push_screen(ViolationDetailDialog(item))

    def action_escape(self) -> None:
        if not self.clear_filter():
            self.dismiss()
