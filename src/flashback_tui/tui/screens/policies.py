"""PolicyListScreen: org-wide, workspace and repository policies of a workspace in one list.

The scope is a column; risk is in its colour; the action (log, alert, block) is shown. ``n``
creates, ``e`` edits (content in a multi-line editor, validated on demand), ``d`` deletes after
a confirmation, ``x`` opens the policy's own violations, ``R`` adds recommended policies.
Writes are hidden where refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.tui.messages import OpenViolations
from flashback_tui.tui.policy_scope import load_scope
from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import Policy, Repo
    from flashback_tui.tui.session_state import SessionState

RISK_STYLES = {"HIGH": "invalid", "MEDIUM": "pending", "LOW": "valid"}
ACTION_NAMES = {0: "log", 1: "alert", 2: "block"}

POLICY_COLUMNS = (
    TableColumn("Name", min_width=10, priority=0, max_width=24, flex=1),
    TableColumn("Scope", min_width=10, priority=1, max_width=22, flex=1),
    TableColumn("Risk", min_width=6, priority=0, max_width=6),
    TableColumn("Action", min_width=6, priority=0, max_width=6),
    TableColumn("Content", min_width=10, priority=2, flex=2),
)


def action_name(policy: Policy) -> str:
    """``log``, ``alert`` or ``block``."""
    return ACTION_NAMES.get(int(policy.action_type), str(policy.action_type))


def scope_text(policy: Policy, repos: dict[str, Repo], workspace_name: str) -> str:
    """``org``, ``workspace NAME`` or ``repo NAME``."""
    if policy.repo_id:
        repo = repos.get(policy.repo_id)
        name = policy.repo.name if policy.repo else repo.name if repo else policy.repo_id
        return f"repo {name}"
    if policy.workspace_id:
        name = policy.workspace.name if policy.workspace else workspace_name
        return f"workspace {name}"
    return "org"


def policy_row(policy: Policy, repos: dict[str, Repo], workspace_name: str) -> TableRow:
    """One policy as a row: risk in colour, block in red."""
    risk, action = str(policy.risk_type), action_name(policy)
    first_line = policy.content.splitlines()[0] if policy.content else ""
    scope = scope_text(policy, repos, workspace_name)
    return TableRow(policy.id, (policy.name, scope, risk, action, first_line),
                    (policy.name.lower(), scope, risk, action, first_line),
                    (None, "dim", RISK_STYLES.get(risk), "invalid" if action == "block" else None,
                     "dim"),
                    f"{policy.name}\n{scope}\n{policy.content}".lower(), policy)


@dataclass
class PoliciesLoaded(Message):
    """The policies that apply in the workspace, its repositories and the org id."""

    policies: list[Policy]
    repos: list[Repo]
    org_id: str


class PolicyListScreen(ListScreen):
    """Policies that apply in one workspace: the org's, the workspace's, its repositories'."""

    ID_PREFIX = "policies"
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new", "edit", "delete", "recommend"})
    FILTER_PLACEHOLDER = "Filter by name, scope or content (Enter: go to list, Esc: clear)"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("new", "edit", "delete", "violations", "filter",
                                            "refresh", "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("policies"),
        Binding("n", "new", "New", id="policies.new"),
        Binding("e", "edit", "Edit", id="policies.edit"),
        Binding("d", "delete", "Delete", id="policies.delete"),
        Binding("x", "violations", "Its violations", id="policies.violations"),
        Binding("R", "recommend", "Recommend", tooltip="Policies suggested for a use case",
                id="policies.recommend"),
    ]

    def __init__(self, state: SessionState, workspace_id: str, workspace_name: str) -> None:
        super().__init__(state, workspace_id, workspace_name)
        self.org_id = ""
        self._policies: dict[str, Policy] = {}
        self._repos: dict[str, Repo] = {}

    def columns(self) -> Sequence[TableColumn]:
        return POLICY_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the org's policies and keep those that apply here."""
        client = self.state.client
        if client is None:
            return
        scope = await load_scope(client, self.workspace_id)
        self.post_message(PoliciesLoaded(scope.policies, scope.repos, scope.org_id))

    def on_policies_loaded(self, message: PoliciesLoaded) -> None:
        self.org_id = message.org_id
        self._policies = {p.id: p for p in message.policies}
        self._repos = {r.id: r for r in message.repos}
        self.show_rows(policy_row(p, self._repos, self.workspace_name)
                       for p in message.policies)

    @property
    def selected(self) -> Policy | None:
        """The policy under the cursor."""
        key = self.table.cursor_key
        return self._policies.get(key) if key else None

    def empty_text(self) -> str:
        if self.state.can_write(self.workspace_id):
            return "No policies apply here yet. Press n to create one."
        return "No policies apply here yet."

    def detail_text(self, key: str | None) -> str:
        item = self._policies.get(key) if key else None
        parts = [f"{item.name}: {' '.join(item.content.split())}"] if item else []
        if self.loaded:
            parts.append(f"{self.table.total_count} policies")
        return " · ".join(parts)

    def open_row(self, key: str) -> None:
        if key in self._policies and not self.write_refusal("edit"):
            self.action_edit()

    def action_escape(self) -> None:
        if not self.clear_filter():
            self.dismiss()

    def action_violations(self) -> None:
        item = self.selected
        if item is not None:
            self.post_message(OpenViolations(self.workspace_id, self.workspace_name,
                                             policy_id=item.id))

    # -- writes -------------------------------------------------------------------------------

    def _form(self, policy: Policy | None) -> None:
        from flashback_tui.tui.screens.policy_form import PolicyFormScreen

        def saved(policy_id: str | None) -> None:
            if policy_id:
                self.notify("Policy saved.")
                self.load()

        self.app.push_screen(PolicyFormScreen(self.state, policy, org_id=self.org_id,
                                              workspace_id=self.workspace_id or "",
                                              repos=list(self._repos.values())), saved)

    def action_new(self) -> None:
        if self.state.client is not None and self.org_id:
            self._form(None)

    def action_edit(self) -> None:
        if self.selected is not None:
            self._form(self.selected)

    def action_recommend(self) -> None:
        from flashback_tui.tui.screens.policy_recommend import RecommendDialog

        def added(count: int | None) -> None:
            if count:
                self.notify(f"Added {count} recommended polic{'ies' if count != 1 else 'y'}.")
                self.load()

        if self.state.client is not None and self.org_id and self.workspace_id:
            self.app.push_screen(RecommendDialog(self.state, org_id=self.org_id,
                                                 workspace_id=self.workspace_id), added)

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.confirm import confirm_then

        item = self.selected
        if item is None:
            return

        text = (f"Delete the policy {item.name} ({scope_text(item, self._repos, '')})?\n"
                "Prompts are no longer checked against it.")
        confirm_then(self, "Delete policy", text, yes="Delete", then=lambda: self._delete(item))

    @work(group="write", exit_on_error=False)
    async def _delete(self, item: Policy) -> None:
        client = self.state.client
        assert client is not None
        await client.delete_policy(item.id)
        self.notify(f"Deleted {item.name}.")
        self.load()
