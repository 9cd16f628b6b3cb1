"""RepoFormScreen: create a repository or change its name and the configurations it uses.

The picker lists the workspace's configurations that are available (``/ai/llm/available``:
validated and active) first; the others follow, marked unvalidated. Space ticks a
configuration; ctrl+s saves (a full document, as ``PUT /repo/{id}`` takes it); Esc cancels.
The dialog answers the repository's id, or None when cancelled.
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
    from flashback_tui.api.models import AiLlm, Repo
    from flashback_tui.tui.session_state import SessionState

UNVALIDATED = " (unvalidated)"


def picker_choices(llms: list[AiLlm], available: set[str], linked: set[str]
                   ) -> list[Selection[str]]:
    """Available configurations first, then the others marked unvalidated; linked ticked."""
    first = [llm for llm in llms if llm.id in available]
    rest = [llm for llm in llms if llm.id not in available]
    return [Selection(llm.name + ("" if llm.id in available else UNVALIDATED), llm.id,
                      llm.id in linked) for llm in (*first, *rest)]


def repo_document(repo: Repo | None, name: str, workspace_id: str,
                  linked: list[str]) -> dict[str, Any]:
    """The body of ``POST /repo`` or ``PUT /repo/{id}`` (storage fields kept as they were)."""
    document: dict[str, Any] = {
        "name": name,
        "storageType": str(repo.storage_type) if repo else "S3",
        "mode": str(repo.mode) if repo else "NORMAL",
        "workspaceId": workspace_id,
        "repoAiLlms": [{"aiLlmId": llm_id} for llm_id in linked],
    }
    if repo is not None:
        document["repoBuckets"] = list(repo.buckets)
        if repo.wallet_address is not None:
            document["walletAddress"] = repo.wallet_address
    return document


class RepoFormScreen(BaseModal[str | None]):
    """A repository's name and linked configurations."""

    DEFAULT_CSS = """
    RepoFormScreen #links { height: auto; max-height: 10; border: none; padding: 0; }
    RepoFormScreen #repo-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="repo_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="repo_form.save", priority=True),
    ]

    def __init__(self, state: SessionState, repo: Repo | None, workspace_id: str) -> None:
        super().__init__(state)
        self.repo = repo
        self.workspace_id = workspace_id

    def compose(self) -> ComposeResult:
        title = f"Edit repository {self.repo.name}" if self.repo else "New repository"
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(title, classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Name", classes="field-label")
                yield Input(self.repo.name if self.repo else "", id="name", compact=True)
            yield Label("Configurations it uses (Space ticks; available ones first)",
                        classes="field-label", id="links-label")
            yield SelectionList[str](id="links", compact=True)
            yield Static("", id="repo-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#links-label").styles.width = "100%"
        self.query_one("#name", Input).focus()
        self.load_choices()

    @work(group="load", exit_on_error=False)
    async def load_choices(self) -> None:
        """The workspace's configurations and which of them are available."""
        client = self.state.client
        if client is None:
            return
        self.query_one("#repo-error", Static).update("Loading configurations…")
        llms = list((await client.get_ai_llms(self.workspace_id)).ai_llms)
        available = {x.id for x in (await client.get_available_ai_llms()).ai_llms}
        linked = set(self.repo.linked_llm_ids()) if self.repo else set()
        picker = self.query_one("#links", SelectionList)
        picker.clear_options()
        picker.add_options(picker_choices(llms, available, linked))
        if llms:
            picker.highlighted = 0
        self.query_one("#repo-error", Static).update(
            "" if llms else "No configurations in this workspace yet.")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.query_one("#repo-error", Static).update("A repository needs a name.")
            self.query_one("#name", Input).focus()
            return
        linked = list(self.query_one("#links", SelectionList).selected)
        self.save(repo_document(self.repo, name, self.workspace_id, linked))

    @work(group="save", exclusive=True, exit_on_error=False)
    async def save(self, document: dict[str, Any]) -> None:
        """Send the document; close with the repository's id."""
        from flashback_tui.api.models import RepoWrite

        client = self.state.client
        assert client is not None
        body = RepoWrite.model_validate(document)
        if self.repo is None:
            answer = await client.create_repo(body)
        else:
            answer = await client.update_repo(self.repo.id, body)
        self.dismiss(answer.repo_id)

    def on_worker_failed(self, worker: Any, error: BaseException) -> None:
        report = describe_error(error, self.state.backend_label)
        self.query_one("#repo-error", Static).update(f"{report.title}: {report.message}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
