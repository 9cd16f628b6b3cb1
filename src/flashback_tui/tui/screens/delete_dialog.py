"""DeleteConfigDialog: confirm deleting a configuration; Cancel is focused, ``y``/``n`` answer.

The dialog names the configuration and the repositories that use it, performs the delete
itself, and explains a 403 "in use" answer plainly instead of closing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static
from textual.worker import Worker

from flashback_tui.api.errors import ForbiddenError, NotFoundError
from flashback_tui.api.models import AiLlm
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import BaseModal

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState


def in_use_explanation(llm: AiLlm, server_message: str) -> str:
    """Plain words for a 403 on delete."""
    if llm.repos:
        names = ", ".join(repo.name for repo in llm.repos)
        return (f"{llm.name} cannot be deleted while repositories use it ({names}). "
                "Point those repositories at another configuration first, then delete it.")
    return (f"{llm.name} cannot be deleted: {server_message}. If repositories use it, "
            "move them to another configuration first; otherwise your role may not allow it.")


class DeleteConfigDialog(BaseModal[bool]):
    """Asks before deleting; dismisses True once the configuration is gone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel", id="delete.cancel"),
        Binding("y", "confirm", "Delete", id="delete.confirm"),
        Binding("left,right", "switch", "Switch button", show=False),
        Binding("g", "repos", "Go to its repositories", id="delete.repos"),
    ]

    def __init__(self, state: SessionState, llm: AiLlm) -> None:
        super().__init__(state)
        self.llm = llm

    def compose(self) -> ComposeResult:
        llm = self.llm
        if llm.repos:
            used = "Used by: " + ", ".join(repo.name for repo in llm.repos)
        else:
            used = "No repository uses it."
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(f"Delete {llm.name}?", classes="dialog-title")
            yield Static(f"{llm.ai_type} · {llm.endpoint or 'no endpoint'}\n{used}\n"
                         "Its stored credentials are removed for good.", classes="dialog-text")
            yield Static("", id="delete-error", classes="field-error")
            with Horizontal(classes="buttons"):
                if llm.repos:
                    yield Button("Repositories (g)", id="repos", compact=True)
                yield Button("Cancel (n)", id="cancel", compact=True)
                yield Button("Delete (y)", variant="error", id="delete", compact=True)

    def on_mount(self) -> None:
        self.query_one("#delete-error").display = False
        self.query_one("#cancel", Button).focus()

    def action_switch(self) -> None:
        self.focus_next(Button)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return bool(self.llm.repos) if action == "repos" else True

    @on(Button.Pressed, "#repos")
    def action_repos(self) -> None:
        """Close and open the repositories of the workspace, to unlink the configuration."""
        from flashback_tui.tui.messages import OpenRepos

        self.dismiss(False)
        self.app.post_message(OpenRepos(self.llm.workspace_id,
                                        self.state.workspace_name(self.llm.workspace_id)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#delete")
    def action_confirm(self) -> None:
        """Delete (once: the button stays disabled while the request runs)."""
        button = self.query_one("#delete", Button)
        if button.disabled:
            return
        button.disabled = True
        self._delete()

    @work(group="delete", exclusive=True, exit_on_error=False)
    async def _delete(self) -> None:
        client = self.state.client
        if client is None:
            raise RuntimeError("not connected")
        await client.delete_ai_llm(self.llm.id)
        self.dismiss(True)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if isinstance(error, ForbiddenError):
            message = in_use_explanation(self.llm, error.message)
        elif isinstance(error, NotFoundError):
            message = f"{self.llm.name} no longer exists (deleted elsewhere?). Refresh the list."
        else:
            report = describe_error(error, self.state.backend_label)
            message = f"Not deleted: {report.message} {report.hint}"
            self.query_one("#delete", Button).disabled = False
        box = self.query_one("#delete-error", Static)
        box.update(message)
        box.display = True
        self.query_one("#cancel", Button).label = "Close"
        self.query_one("#cancel", Button).focus()
