"""RecommendDialog: policies suggested for a use case in words (``POST /policy/recommend``).

Type a short description and press Enter; the suggestions (content, risk, action) come back
as a list to tick with Space; ctrl+s adds the ticked ones as new workspace policies. The
dialog answers how many it added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import BaseModal

if TYPE_CHECKING:
    from flashback_tui.api.models import PolicyRecommendation
    from flashback_tui.tui.session_state import SessionState

ACTIONS = {"log": 0, "alert": 1, "block": 2}
NAME_WORDS = 5


def name_for(content: str) -> str:
    """A policy name from the first words of its content."""
    words = content.split()
    return " ".join(words[:NAME_WORDS]) + ("…" if len(words) > NAME_WORDS else "")


class RecommendDialog(BaseModal[int]):
    """Ask for recommendations, tick some, add them."""

    DEFAULT_CSS = """
    RecommendDialog #suggestions { height: auto; max-height: 10; border: none; padding: 0; }
    RecommendDialog #recommend-status { height: auto; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="recommend.cancel"),
        Binding("ctrl+s", "add", "Add ticked", id="recommend.add", priority=True),
    ]

    def __init__(self, state: SessionState, *, org_id: str, workspace_id: str) -> None:
        super().__init__(state)
        self.org_id = org_id
        self.workspace_id = workspace_id
        self._found: list[PolicyRecommendation] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Recommend policies", classes="dialog-title")
            yield Input(placeholder="e.g. support bot that handles card payments (Enter)",
                        id="prompt", compact=True)
            yield SelectionList[int](id="suggestions", compact=True)
            yield Static("Describe the use case and press Enter.", id="recommend-status",
                         markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Add ticked (ctrl+s)", id="add", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()

    @on(Input.Submitted, "#prompt")
    def _ask(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#recommend-status", Static).update("Asking…")
            self.recommend(event.value.strip())

    @work(group="recommend", exclusive=True, exit_on_error=False)
    async def recommend(self, prompt: str) -> None:
        """``POST /policy/recommend`` at the workspace level."""
        from flashback_tui.api.models import PolicyRecommendationRequest

        client = self.state.client
        assert client is not None
        body = PolicyRecommendationRequest.model_validate(
            {"level": 1, "uuid": self.workspace_id, "prompt": prompt})
        self._found = list((await client.recommend_policies(body)).recommended_policies)
        picker = self.query_one("#suggestions", SelectionList)
        picker.clear_options()
        picker.add_options(Selection(f"{r.alert_type:<5} {r.risk_type!s:<6} {r.content}", i)
                           for i, r in enumerate(self._found))
        if self._found:
            picker.highlighted = 0
            picker.focus()
        self.query_one("#recommend-status", Static).update(
            f"{len(self._found)} suggestions: Space ticks, ctrl+s adds." if self._found
            else "No suggestion for these words; describe the use case differently.")

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        chosen = [self._found[i] for i in self.query_one("#suggestions", SelectionList).selected]
        if chosen:
            self.add(chosen)

    @work(group="add", exclusive=True, exit_on_error=False)
    async def add(self, chosen: list[PolicyRecommendation]) -> None:
        """Create each ticked recommendation as a workspace policy."""
        from flashback_tui.api.models import PolicyCreate

        client = self.state.client
        assert client is not None
        for item in chosen:
            await client.create_policy(PolicyCreate.model_validate({
                "name": name_for(item.content), "content": item.content,
                "riskType": str(item.risk_type).upper(),
                "actionType": ACTIONS.get(str(item.alert_type), 1),
                "orgId": self.org_id, "workspaceId": self.workspace_id}))
        self.dismiss(len(chosen))

    def on_worker_failed(self, worker: Any, error: BaseException) -> None:
        report = describe_error(error, self.state.backend_label)
        self.query_one("#recommend-status", Static).update(f"{report.title}: {report.message}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(0)
