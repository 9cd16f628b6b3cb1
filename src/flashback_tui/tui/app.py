"""FlashbackApp: owns the session (client, profile, backend), the screen stack and errors.

The first paint never waits for the network: the session opens in a worker while the first
screen shows a loading state; screens fill in when :class:`SessionReady` arrives.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from flashback_tui.api.models import Role, Workspace
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import SessionReady, WorkspaceChosen

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.connect import Session
    from flashback_tui.settings import Profile

#: Opens a session: an async context manager yielding a connect.Session.
SessionOpener = Callable[[], AbstractAsyncContextManager["Session"]]

#: The user the embedded platform signs in as.
LOCAL_ADMIN_EMAIL = "admin@localhost"

#: Actions that change data; hidden and refused in read-only mode.
WRITE_ACTIONS = frozenset({"new", "edit", "delete", "rotate"})


def backend_label_for(profile: Profile | None, url: str | None = None) -> str:
    """``local (embedded)`` or the remote host."""
    if profile is not None and profile.is_local and not url:
        return "local (embedded)"
    target = url or (profile.url if profile is not None else None)
    if not target:
        return "local (embedded)"
    return urlsplit(target).netloc or target


class FlashbackApp(App[None]):
    """The flashback-tui application."""

    CSS_PATH = "app.tcss"
    TITLE = "flashback-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("w", "workspaces", "Workspaces", id="app.workspaces"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
    ]

    def __init__(
        self,
        *,
        opener: SessionOpener | None,
        profile: Profile | None = None,
        read_only: bool = False,
        backend_label: str | None = None,
    ) -> None:
        super().__init__()
        from flashback_tui.settings import builtin_local_profile

        self._opener = opener
        self.profile: Profile = profile or builtin_local_profile()
        self.read_only = read_only
        self.backend_label = backend_label or backend_label_for(self.profile)
        self.session: Session | None = None
        self.client: FlashbackClient | None = None
        self.workspaces: list[Workspace] = []
        self.user_id: str | None = None
        self.session_error: BaseException | None = None
        self._exit_stack: AsyncExitStack | None = None
        if self.profile.keymap:
            self.set_keymap(self.profile.keymap)

    # ----------------------------------------------------------------------------------------
    # Start-up and session
    # ----------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        from flashback_tui.tui.screens.workspaces import WorkspacesScreen

        return WorkspacesScreen()

    def on_mount(self) -> None:
        if self.profile.theme and self.profile.theme in self.available_themes:
            self.theme = self.profile.theme
        if self.profile.is_local or self.profile.default_workspace:
            # Most likely a single workspace: show the list frame at once, decide later.
            from flashback_tui.tui.screens.config_list import ConfigListScreen

            self.push_screen(ConfigListScreen(None, "", pending=True))
        if self._opener is not None:
            self.open_session()

    @property
    def connecting(self) -> bool:
        """True until the session is open (or has failed)."""
        return self.client is None and self.session_error is None and self._opener is not None

    @work(group="session", exclusive=True, exit_on_error=False)
    async def open_session(self) -> None:
        """Open the session (start the embedded server if needed), then load workspaces."""
        assert self._opener is not None
        self.session_error = None
        await self._close_session()
        stack = AsyncExitStack()
        try:
            session = await stack.enter_async_context(self._opener())
        except BaseException:
            await stack.aclose()
            raise
        self._exit_stack = stack
        self.session = session
        self.client = session.client
        self.profile = session.profile
        self.backend_label = backend_label_for(session.profile, None if
                                               session.local_server else session.url)
        await self.load_workspaces()
        for screen in self.screen_stack:
            screen.post_message(SessionReady())
        self._open_single_workspace()

    def _open_single_workspace(self) -> None:
        """With exactly one workspace and no list open yet, go straight to it."""
        from flashback_tui.tui.screens.config_list import ConfigListScreen

        if len(self.workspaces) == 1 and not any(
            isinstance(screen, ConfigListScreen) for screen in self.screen_stack
        ):
            only = self.workspaces[0]
            self.push_screen(ConfigListScreen(only.id, only.name))

    async def load_workspaces(self) -> list[Workspace]:
        """Fetch the caller's workspaces and work out who the caller is."""
        assert self.client is not None
        answer = await self.client.get_workspaces()
        self.workspaces = list(answer.workspaces)
        self.user_id = self._identify_user()
        return self.workspaces

    def _identify_user(self) -> str | None:
        """The caller's user id: by e-mail, else the one member common to every workspace."""
        email = LOCAL_ADMIN_EMAIL if (self.session and self.session.local_server) else None
        email = email or self.profile.email
        if email:
            for workspace in self.workspaces:
                for member in workspace.users:
                    if member.user and member.user.email.lower() == email.lower():
                        return member.user_id
        common: set[str] | None = None
        for workspace in self.workspaces:
            members = {member.user_id for member in workspace.users}
            common = members if common is None else common & members
        if common is not None and len(common) == 1:
            return next(iter(common))
        return None

    async def _close_session(self) -> None:
        stack, self._exit_stack = self._exit_stack, None
        self.client = None
        self.session = None
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()

    async def on_unmount(self) -> None:
        await self._close_session()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        if event.worker.group == "session":
            self.session_error = event.worker.error
            for screen in self.screen_stack:
                hook = getattr(screen, "on_session_failed", None)
                if hook is not None:
                    hook(event.worker.error)
        self.show_error(event.worker.error)

    # ----------------------------------------------------------------------------------------
    # What screens ask of the app
    # ----------------------------------------------------------------------------------------

    def show_error(self, error: BaseException, *, title: str | None = None) -> None:
        """The one place that turns an error into a readable notice."""
        report = describe_error(error, self.backend_label)
        self.notify(report.text, title=title or report.title, severity="error", timeout=8)

    def workspace(self, workspace_id: str | None) -> Workspace | None:
        """A workspace by id, from the last fetch."""
        return next((w for w in self.workspaces if w.id == workspace_id), None)

    def role_in(self, workspace_id: str | None) -> Role | None:
        """The caller's role in a workspace, or None when unknown."""
        workspace = self.workspace(workspace_id)
        if workspace is None or self.user_id is None:
            return None
        return workspace.role_of(self.user_id)

    def can_write(self, workspace_id: str | None) -> bool:
        """False in read-only mode or with a READ role; True when the role is unknown."""
        if self.read_only:
            return False
        if workspace_id is None:
            return any(self._role_allows(w.id) for w in self.workspaces) or not self.workspaces
        return self._role_allows(workspace_id)

    def _role_allows(self, workspace_id: str) -> bool:
        role = self.role_in(workspace_id)
        return role is None or role.can_write

    def writable_workspaces(self) -> list[Workspace]:
        """Workspaces where the caller may create configurations."""
        if self.read_only:
            return []
        return [w for w in self.workspaces if self._role_allows(w.id)]

    # ----------------------------------------------------------------------------------------
    # Navigation
    # ----------------------------------------------------------------------------------------

    def on_workspace_chosen(self, message: WorkspaceChosen) -> None:
        from flashback_tui.tui.screens.config_list import ConfigListScreen

        self.push_screen(ConfigListScreen(message.workspace_id, message.workspace_name))

    def action_workspaces(self) -> None:
        """Back to the workspace list from anywhere."""
        from flashback_tui.tui.screens.workspaces import WorkspacesScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, WorkspacesScreen):
            self.pop_screen()

    def action_help(self) -> None:
        screen_class = _optional_screen("flashback_tui.tui.screens.help", "HelpScreen")
        if screen_class is None:
            self.notify("Help is not available in this build.", severity="warning")
            return
        self.push_screen(screen_class())

    def open_stats(self, workspace_id: str | None, workspace_name: str) -> None:
        """Push the live statistics dashboard for a workspace (None: all)."""
        screen_class = _optional_screen("flashback_tui.tui.screens.stats", "StatsScreen")
        if screen_class is None:
            self.notify("The statistics dashboard is not available in this build.",
                        severity="warning")
            return
        self.push_screen(screen_class(workspace_id, workspace_name))

    # ----------------------------------------------------------------------------------------
    # Command palette: every action of the current screen, plus Textual's own commands
    # ----------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.id or binding.action in seen:
                continue
            seen.add(binding.action)
            namespace = active.node
            action = binding.action

            def run(namespace: Any = namespace, action: str = action) -> None:
                self.run_action(action, namespace)

            key = self.get_key_display(binding)
            yield SystemCommand(binding.description or action,
                                f"{binding.tooltip or binding.description} (key: {key})", run)
        yield from super().get_system_commands(screen)


def _optional_screen(module: str, name: str) -> type[Screen[Any]] | None:
    """A screen class from a module that may not exist in this build."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), name, None)
