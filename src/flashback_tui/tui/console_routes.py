"""ConsoleRoutes: how the App opens the repository, key and violation screens.

A mixin of :class:`FlashbackApp`: screens post :class:`OpenRepos`, :class:`OpenKeys`,
:class:`OpenViolations`, :class:`OpenPolicies`, :class:`OpenMembers` and :class:`OpenEvents`;
these handlers push the matching screen with the session state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flashback_tui.tui.messages import (
    OpenEvents,
    OpenKeys,
    OpenMembers,
    OpenPolicies,
    OpenRepos,
    OpenViolations,
)

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState


class ConsoleRoutes:
    """Message handlers of the console screens (mixed into the App)."""

    state: SessionState
    push_screen: Any

    def on_open_repos(self, message: OpenRepos) -> None:
        from flashback_tui.tui.screens.repos import RepoListScreen

        self.push_screen(RepoListScreen(self.state, message.workspace_id,
                                        message.workspace_name))

    def on_open_keys(self, message: OpenKeys) -> None:
        from flashback_tui.tui.screens.keys import KeyListScreen

        self.push_screen(KeyListScreen(self.state, message.repo_id, message.repo_name,
                                       message.workspace_id))

    def on_open_violations(self, message: OpenViolations) -> None:
        from flashback_tui.api.models import ViolationFilters
        from flashback_tui.tui.screens.violations import ViolationListScreen

        filters = ViolationFilters(policy_id=message.policy_id, repo_id=message.repo_id,
                                   block=True if message.blocked_only else None)
        self.push_screen(ViolationListScreen(self.state, message.workspace_id,
                                             message.workspace_name, kind=message.kind,
                                             filters=filters))

    def on_open_policies(self, message: OpenPolicies) -> None:
        from flashback_tui.tui.screens.policies import PolicyListScreen

        self.push_screen(PolicyListScreen(self.state, message.workspace_id,
                                          message.workspace_name))

    def on_open_members(self, message: OpenMembers) -> None:
        from flashback_tui.tui.screens.members import MemberListScreen

        self.push_screen(MemberListScreen(self.state, message.workspace_id,
                                          message.workspace_name))

    def on_open_events(self, message: OpenEvents) -> None:
        from flashback_tui.tui.screens.events import EventListScreen

        self.push_screen(EventListScreen(self.state, message.workspace_id,
                                         message.workspace_name))
