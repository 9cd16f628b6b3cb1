"""RepoListScreen: the repositories of a workspace, the configurations they use, their keys.

A :class:`ListScreen`: ``n`` creates a repository, ``e`` edits its name and the configurations
it uses (a picker offering validated ones first), ``d`` deletes it after naming what goes with
it, Enter (or ``a``) opens its AI API keys. Writes are hidden where the session refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.tui.messages import OpenKeys
from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm, Repo
    from flashback_tui.tui.session_state import SessionState

REPO_COLUMNS = (
    TableColumn("Name", min_width=10, priority=0, max_width=28, flex=1),
    TableColumn("Configurations", min_width=14, priority=2, flex=2),
    TableColumn("Keys", min_width=4, priority=1, max_width=4, justify_right=True),
    TableColumn("Created", min_width=10, priority=3, max_width=10),
)


@dataclass
class ReposLoaded(Message):
    """The repositories and the workspace's configurations (names for the links)."""

    repos: list[Repo]
    llms: list[AiLlm]


def active_key_count(repo: Repo) -> int:
    """Keys of a repository that are not revoked."""
    return sum(1 for key in repo.ai_api_keys or [] if not key.revoked)


def linked_names(repo: Repo, llms: dict[str, AiLlm]) -> list[str]:
    """Names of the configurations a repository uses (ids when unknown)."""
    return [llms[i].name if i in llms else i for i in repo.linked_llm_ids()]


def repo_row(repo: Repo, llms: dict[str, AiLlm]) -> TableRow:
    """One repository as a row."""
    names = linked_names(repo, llms)
    created = repo.created_at.isoformat()[:10] if repo.created_at else ""
    keys = active_key_count(repo)
    return TableRow(repo.id, (repo.name, ", ".join(names) or "—", str(keys), created),
                    (repo.name.lower(), len(names), keys, created),
                    (None, None if names else "dim", None, "dim"),
                    f"{repo.name}\n{' '.join(names)}".lower(), repo)


class RepoListScreen(ListScreen):
    """The repositories of one workspace (``workspace_id`` None: every workspace)."""

    ID_PREFIX = "repos"
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new", "edit", "delete"})
    FILTER_PLACEHOLDER = "Filter by name or configuration (Enter: go to list, Esc: clear)"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("filter", "new", "edit", "keys", "delete",
                                            "refresh", "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("repos"),
        Binding("n", "new", "New", id="repos.new"),
        Binding("e", "edit", "Edit", tooltip="Rename, link or unlink configurations",
                id="repos.edit"),
        Binding("a", "keys", "AI keys", id="repos.keys"),
        Binding("d", "delete", "Delete", id="repos.delete"),
    ]

    def __init__(self, state: SessionState, workspace_id: str | None, workspace_name: str,
                 *, select: str | None = None) -> None:
        super().__init__(state, workspace_id, workspace_name or "All workspaces")
        self._repos: dict[str, Repo] = {}
        self._llms: dict[str, AiLlm] = {}
        self._select = select

    def columns(self) -> Sequence[TableColumn]:
        return REPO_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the repositories and the configurations they may link."""
        client = self.state.client
        if client is None:
            return
        repos = list((await client.get_repos(self.workspace_id)).repos)
        llms = list((await client.get_ai_llms(self.workspace_id)).ai_llms)
        self.post_message(ReposLoaded(repos, llms))

    def on_repos_loaded(self, message: ReposLoaded) -> None:
        self._repos = {repo.id: repo for repo in message.repos}
        self._llms = {llm.id: llm for llm in message.llms}
        self.show_rows(repo_row(repo, self._llms) for repo in message.repos)
        chosen, self._select = self._select, None
        if chosen is not None:
            self.table.move_cursor_to_key(chosen)
            self.show_detail()

    @property
    def repos(self) -> list[Repo]:
        """The repositories loaded."""
        return list(self._repos.values())

    @property
    def selected(self) -> Repo | None:
        """The repository under the cursor."""
        key = self.table.cursor_key
        return self._repos.get(key) if key else None

    def empty_text(self) -> str:
        where = self.workspace_name or "this workspace"
        if self.state.can_write(self.workspace_id):
            return f"No repositories in {where} yet. Press n to create one."
        return f"No repositories in {where} yet."

    def detail_text(self, key: str | None) -> str:
        parts = []
        repo = self._repos.get(key) if key else None
        if repo is not None:
            keys = len(repo.ai_api_keys or [])
            revoked = keys - active_key_count(repo)
            parts.append(f"{repo.name}: {keys} key{'s' if keys != 1 else ''}"
                         + (f" ({revoked} revoked)" if revoked else "") + " · Enter: keys")
        if self.loaded:
            total = self.table.total_count
            parts.append(f"{total} repositor{'ies' if total != 1 else 'y'}")
        return " · ".join(parts)

    def row_workspace(self, key: str | None) -> str | None:
        repo = self._repos.get(key) if key else None
        return repo.workspace_id if repo is not None else self.workspace_id

    # -- opening and writing ----------------------------------------------------------------

    def open_row(self, key: str) -> None:
        repo = self._repos.get(key)
        if repo is not None:
            self.post_message(OpenKeys(repo.id, repo.name, repo.workspace_id))

    def action_escape(self) -> None:
        """Clear the filter, else go back to where the list was opened from."""
        if not self.clear_filter():
            self.dismiss()

    def action_keys(self) -> None:
        if self.table.cursor_key:
            self.open_row(self.table.cursor_key)

    def _workspace_for_new(self) -> str | None:
        if self.workspace_id is not None:
            return self.workspace_id
        writable = self.state.writable_workspaces()
        return writable[0].id if writable else None

    def action_new(self) -> None:
        from flashback_tui.tui.screens.repo_form import RepoFormScreen

        workspace_id = self._workspace_for_new()
        if self.state.client is None or workspace_id is None:
            return
        self.app.push_screen(RepoFormScreen(self.state, None, workspace_id), self._saved)

    def action_edit(self) -> None:
        from flashback_tui.tui.screens.repo_form import RepoFormScreen

        repo = self.selected
        if repo is not None and self.state.client is not None:
            self.app.push_screen(RepoFormScreen(self.state, repo, repo.workspace_id),
                                 self._saved)

    def _saved(self, repo_id: str | None) -> None:
        if repo_id:
            self.notify("Repository saved.")
            self._select = repo_id
            self.load()

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.confirm import confirm_then

        repo = self.selected
        if repo is None or self.state.client is None:
            return
        names = linked_names(repo, self._llms)
        keys = active_key_count(repo)
        lines = [f"Delete the repository {repo.name}?"]
        if keys:
            lines.append(f"Its {keys} AI API key{'s' if keys != 1 else ''} go with it and"
                         " stop working at once.")
        if names:
            lines.append(f"It stops using: {', '.join(names)} (the configurations stay).")
        lines.append("Its usage history stays.")

        confirm_then(self, "Delete repository", "\n".join(lines), yes="Delete",
                     then=lambda: self._delete(repo))

    @work(group="write", exit_on_error=False)
    async def _delete(self, repo: Repo) -> None:
        client = self.state.client
        assert client is not None
        await client.delete_repo(repo.id)
        self.notify(f"Deleted {repo.name}.")
        self.load()
