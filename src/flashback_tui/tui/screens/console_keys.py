"""ConsoleListScreen: the configuration list's keys to the rest of the console.

``b`` opens the workspace's repositories (and their AI keys), ``p`` the policies that apply
there, ``m`` its members, ``x`` its policy violations, ``h`` its history (the audit trail).
The configuration list derives from this class; the keys also reach the command palette.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from flashback_tui.tui.messages import (
    OpenEvents,
    OpenMembers,
    OpenPolicies,
    OpenRepos,
    OpenViolations,
)
from flashback_tui.tui.screens.list_screen import ListScreen

CONSOLE_ACTIONS = frozenset({"repos", "violations", "policies", "members",
                             "events"})
#: Actions that need one workspace (not the all-workspaces list).
ONE_WORKSPACE = frozenset({"policies", "members"})


class ConsoleListScreen(ListScreen):
    """A list with keys to the repositories and the violations of its workspace."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "repos", "Repositories", tooltip="Repositories and their AI keys",
                id="configs.repos"),
        Binding("p", "policies", "Policies", tooltip="Policies: org, workspace, repository",
                id="configs.policies"),
        Binding("m", "members", "Members", tooltip="Members of the workspace and their roles",
                id="configs.members"),
        Binding("h", "events", "Events", tooltip="The audit trail: who changed what",
                id="configs.events"),
        Binding("x", "violations", "Violations", tooltip="Policy violations and alerts",
                id="configs.violations"),
    ]

    def action_repos(self) -> None:
        self.post_message(OpenRepos(self.workspace_id, self.workspace_name))

    def action_violations(self) -> None:
        self.post_message(OpenViolations(self.workspace_id, self.workspace_name))

    def action_policies(self) -> None:
        if self.workspace_id is not None:
            self.post_message(OpenPolicies(self.workspace_id, self.workspace_name))

    def action_members(self) -> None:
        if self.workspace_id is not None:
            self.post_message(OpenMembers(self.workspace_id, self.workspace_name))

    def action_events(self) -> None:
        self.post_message(OpenEvents(self.workspace_id, self.workspace_name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CONSOLE_ACTIONS:
            if action in ONE_WORKSPACE and self.workspace_id is None:
                return False
            return self.state.client is not None and not getattr(self, "pending", False)
        return super().check_action(action, parameters)
