"""KeyListScreen: the AI API keys of one repository (what applications send the gateway).

Keys are listed by their public identifier, masked; revoked keys stay in the list, marked.
``n`` creates a key and shows its secret once (:class:`KeySecretDialog`), ``e`` renames one,
``d`` revokes one after a confirmation. Writes are hidden where the session refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import RepoAiApiKey
    from flashback_tui.tui.session_state import SessionState

KEY_COLUMNS = (
    TableColumn("Name", min_width=10, priority=0, max_width=30, flex=1),
    TableColumn("Type", min_width=6, priority=2, max_width=9),
    TableColumn("Key", min_width=12, priority=1, max_width=14),
    TableColumn("Created", min_width=10, priority=3, max_width=10),
    TableColumn("Status", min_width=7, priority=0, max_width=7),
)
#: How much of the public key identifier the list shows.
SHOWN_KEY_CHARS = 8


def mask_key(key: str | None) -> str:
    """The start of a public key identifier, the rest hidden."""
    if not key:
        return ""
    return key[:SHOWN_KEY_CHARS] + "…" if len(key) > SHOWN_KEY_CHARS else key


def key_row(key: RepoAiApiKey) -> TableRow:
    """One key as a row; revoked keys dimmed and marked."""
    created = key.created_at.isoformat()[:10] if key.created_at else ""
    status = "revoked" if key.revoked else "active"
    style = "dim" if key.revoked else None
    return TableRow(key.id, (key.name, str(key.ai_type), mask_key(key.key), created, status),
                    (key.name.lower(), str(key.ai_type), key.key or "", created, status),
                    (style, style, "dim", "dim", "dim" if key.revoked else "valid"),
                    key.name.lower(), key)


@dataclass
class KeysLoaded(Message):
    """The repository's keys, revoked ones included."""

    keys: list[RepoAiApiKey]


@dataclass
class KeyCreated(Message):
    """A key was created: its name and the secret to show once."""

    key_id: str
    name: str
    secret: str

    def __repr__(self) -> str:
        return f"KeyCreated(key_id={self.key_id!r}, name={self.name!r}, secret=<hidden>)"


class KeyListScreen(ListScreen):
    """The AI API keys of one repository."""

    ID_PREFIX = "keys"
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new", "edit", "delete"})
    FILTER_PLACEHOLDER = "Filter by name (Enter: go to list, Esc: clear)"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("new", "edit", "delete", "filter", "refresh",
                                            "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("keys"),
        Binding("n", "new", "New key", id="keys.new"),
        Binding("e", "edit", "Rename", id="keys.rename"),
        Binding("d", "delete", "Revoke", id="keys.revoke"),
    ]

    def __init__(self, state: SessionState, repo_id: str, repo_name: str,
                 workspace_id: str) -> None:
        super().__init__(state, workspace_id, state.workspace_name(workspace_id))
        self.repo_id = repo_id
        self.repo_name = repo_name
        self._keys: dict[str, RepoAiApiKey] = {}
        self._select: str | None = None

    def columns(self) -> Sequence[TableColumn]:
        return KEY_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    def update_header(self) -> None:
        super().update_header()
        from flashback_tui.tui.widgets.header_bar import HeaderBar

        self.query_one(HeaderBar).workspace = f"{self.repo_name}: AI keys"

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the keys."""
        client = self.state.client
        if client is not None:
            answer = await client.get_repo_ai_api_keys(self.repo_id)
            self.post_message(KeysLoaded(list(answer.api_keys)))

    def on_keys_loaded(self, message: KeysLoaded) -> None:
        self._keys = {key.id: key for key in message.keys}
        self.show_rows(key_row(key) for key in message.keys)
        chosen, self._select = self._select, None
        if chosen is not None:
            self.table.move_cursor_to_key(chosen)
            self.show_detail()

    @property
    def selected(self) -> RepoAiApiKey | None:
        """The key under the cursor."""
        key = self.table.cursor_key
        return self._keys.get(key) if key else None

    def empty_text(self) -> str:
        if self.state.can_write(self.workspace_id):
            return f"{self.repo_name} has no AI keys yet. Press n to create one."
        return f"{self.repo_name} has no AI keys yet."

    def detail_text(self, key: str | None) -> str:
        parts = []
        item = self._keys.get(key) if key else None
        if item is not None:
            when = item.deleted_at.isoformat()[:10] if item.deleted_at else ""
            parts.append(f"{item.name}: revoked {when}, refused by the gateway" if item.revoked
                         else f"{item.name}: active at the gateway (/v1)")
        if self.loaded:
            active = sum(1 for k in self._keys.values() if not k.revoked)
            parts.append(f"{active} active of {len(self._keys)}")
        return " · ".join(parts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action in ("edit", "delete"):
            selected = self.selected
            return selected is not None and not selected.revoked
        return allowed

    def action_escape(self) -> None:
        if not self.clear_filter():
            self.dismiss()

    # -- writes -------------------------------------------------------------------------------

    def action_new(self) -> None:
        from flashback_tui.tui.screens.key_secret_dialog import KeyNameDialog

        def named(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._create(*answer)

        self.app.push_screen(KeyNameDialog(f"New AI key for {self.repo_name}"), named)

    @work(group="write", exit_on_error=False)
    async def _create(self, name: str, ai_type: str) -> None:
        from flashback_tui.api.models import RepoAiApiKeyCreate

        client = self.state.client
        assert client is not None
        body = RepoAiApiKeyCreate.model_validate({"name": name, "aiType": ai_type})
        created = await client.create_repo_ai_api_key(self.repo_id, body)
        self.post_message(KeyCreated(created.id, name, created.secret.get_secret_value()))

    def on_key_created(self, message: KeyCreated) -> None:
        from flashback_tui.tui.screens.key_secret_dialog import KeySecretDialog

        self._select = message.key_id
        self.app.push_screen(KeySecretDialog(message.name, message.secret))
        self.load()

    def action_edit(self) -> None:
        from flashback_tui.tui.screens.key_secret_dialog import KeyNameDialog

        item = self.selected
        if item is None:
            return

        def named(answer: tuple[str, str] | None) -> None:
            if answer is not None and answer[0] != item.name:
                self._rename(item, answer[0])

        self.app.push_screen(KeyNameDialog(f"Rename AI key {item.name}", item.name,
                                           with_type=False), named)

    @work(group="write", exit_on_error=False)
    async def _rename(self, item: RepoAiApiKey, name: str) -> None:
        from flashback_tui.api.models import RepoAiApiKeyUpdate

        client = self.state.client
        assert client is not None
        await client.update_repo_ai_api_key(self.repo_id, item.id,
                                            RepoAiApiKeyUpdate.model_validate({"name": name}))
        self.notify(f"Renamed {item.name} to {name}.")
        self.load()

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.confirm import confirm_then

        item = self.selected
        if item is None:
            return

        text = (f"Revoke the AI key {item.name} of {self.repo_name}?\nApplications using it"
                " are refused by the gateway at once. This cannot be undone.")
        confirm_then(self, "Revoke AI key", text, yes="Revoke", then=lambda: self._revoke(item))

    @work(group="write", exit_on_error=False)
    async def _revoke(self, item: RepoAiApiKey) -> None:
        client = self.state.client
        assert client is not None
        await client.delete_repo_ai_api_key(self.repo_id, item.id)
        self.notify(f"Revoked {item.name}.")
        self.load()
