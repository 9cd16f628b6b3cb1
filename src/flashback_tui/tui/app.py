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

from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import SessionReady, WorkspaceChosen

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Role, Workspace
    from flashback_tui.connect import Session
    from flashback_tui.settings import Profile
    from flashback_tui.tui.widgets.header_bar import HeaderBar

#: Opens a session: an async context manager yielding a connect.Session. Keyword arguments
#: ``profile`` (switch to another profile) and ``credential`` (one just obtained by the
#: sign-in screen) are passed when set.
SessionOpener = Callable[..., AbstractAsyncContextManager["Session"]]

#: The user the embedded platform signs in as.
LOCAL_ADMIN_EMAIL = "admin@localhost"


def backend_label_for_target(url: str | None, profile_name: str | None) -> str:
    """A label before the profile is resolved: the URL's host, a profile name, or local."""
    if url:
        return urlsplit(url).netloc or url
    if profile_name:
        return f"profile {profile_name}"
    return "local (embedded)"


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
    COMMANDS = App.COMMANDS | {lambda: _profile_commands()}

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
        self._opener = opener
        self._open_overrides: dict[str, Any] = {}
        self._profile: Profile | None = profile
        self.read_only = read_only
        self.backend_label = backend_label or backend_label_for(profile)
        self.session: Session | None = None
        self.client: FlashbackClient | None = None
        self.workspaces: list[Workspace] = []
        self.user_id: str | None = None
        self.session_error: BaseException | None = None
        self._exit_stack: AsyncExitStack | None = None
        if profile is not None and profile.keymap:
            self.set_keymap(profile.keymap)

    @property
    def profile(self) -> Profile:
        """The profile in use (the built-in local one until the session says otherwise).

        Built on first use, so the first frame does not wait for the settings machinery.
        """
        if self._profile is None:
            from flashback_tui.settings import builtin_local_profile

            self._profile = builtin_local_profile()
        return self._profile

    @profile.setter
    def profile(self, profile: Profile) -> None:
        self._profile = profile

    def apply_profile(self, profile: Profile) -> None:
        """Use a profile's keymap and theme (also when it is resolved after start-up)."""
        self.profile = profile
        if profile.keymap:
            self.set_keymap(profile.keymap)
        if profile.theme and profile.theme in self.available_themes:
            self.theme = profile.theme

    # ----------------------------------------------------------------------------------------
    # Start-up and session
    # ----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        profile = self._profile
        if profile is not None and profile.theme and profile.theme in self.available_themes:
            self.theme = profile.theme
        if self._opener is not None:
            # Show the list frame at once; once the workspaces are known it either opens
            # the only (or default) workspace or gives way to the picker below it.
            from flashback_tui.tui.screens.config_list import ConfigListScreen

            self.push_screen(ConfigListScreen(None, "", pending=True))
            # After the first frame: opening imports the session machinery on this thread.
            self.call_after_refresh(self.open_session)

    def get_default_screen(self) -> Screen[Any]:
        """A blank base while a session opens (the picker is built when first needed);
        the picker itself when the app runs without a session (fixed data)."""
        if self._opener is None:
            from flashback_tui.tui.screens.workspaces import WorkspacesScreen

            return WorkspacesScreen()
        return super().get_default_screen()

    @property
    def connecting(self) -> bool:
        """True until the session is open (or has failed)."""
        return self.client is None and self.session_error is None and self._opener is not None

    def reconnect(self) -> None:
        """Open the session again (after a failure); no-op while one is opening."""
        opening = any(w.group == "session" and w.is_running for w in self.workers)
        if self._opener is not None and not opening:
            self.open_session()

    def switch_profile(self, profile: Profile, credential: Any = None) -> None:
        """Close this session and open one on ``profile`` (from the command palette)."""
        from flashback_tui.tui.screens.config_list import ConfigListScreen

        if self._opener is None:
            return
        self._open_overrides = {"profile": profile}
        if credential is not None:
            self._open_overrides["credential"] = credential
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.workspaces, self.user_id, self.session_error = [], None, None
        self.client = None
        self.apply_profile(profile)
        self.backend_label = backend_label_for(profile)
        self.push_screen(ConfigListScreen(None, "", pending=True))
        self.open_session()

    @work(group="session", exclusive=True, exit_on_error=False)
    async def open_session(self) -> None:
        """Open the session (start the embedded server if needed), then load workspaces."""
        assert self._opener is not None
        self.session_error = None
        await self._close_session()
        stack = AsyncExitStack()
        try:
            session = await stack.enter_async_context(self._opener(**self._open_overrides))
        except BaseException:
            await stack.aclose()
            raise
        self._exit_stack = stack
        self.session = session
        self.client = session.client
        self.apply_profile(session.profile)
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
            if self._offer_sign_in(event.worker.error):
                return
        self.show_error(event.worker.error)

    def _offer_sign_in(self, error: BaseException) -> bool:
        """Show the sign-in screen when signing in again can fix ``error``."""
        from importlib.util import find_spec

        if self._opener is None or find_spec("flashback_tui.tui.screens.sign_in") is None:
            return False
        from flashback_tui.tui.screens.sign_in import SignInScreen, wants_sign_in

        profile = getattr(error, "profile", None) or self.profile
        source = self.session.credential_source if self.session else None
        if not wants_sign_in(profile, error, source):
            return False

        def signed_in(credential: Any) -> None:
            if credential is None:
                return
            email = getattr(getattr(credential, "credential", None), "email", None)
            chosen = profile.model_copy(update={"email": email}) if email else profile
            self.switch_profile(chosen, credential)

        self.push_screen(SignInScreen(profile, describe_error(error).message), signed_in)
        return True

    # ----------------------------------------------------------------------------------------
    # What screens ask of the app
    # ----------------------------------------------------------------------------------------

    def show_error(self, error: BaseException, *, title: str | None = None) -> None:
        """The one place that turns an error into a readable notice."""
        report = describe_error(error, self.backend_label)
        self.notify(report.text, title=title or report.title, severity="error", timeout=8)

    def fill_header(self, header: HeaderBar) -> None:
        """Backend, profile, where the token lives, read-only mode and profile colour."""
        header.backend = self.backend_label
        profile = self._profile
        local = self.session is not None and self.session.local_server is not None
        header.profile = "" if (local or profile is None or profile.is_local) else profile.name
        if local or self.session is None:
            header.credential = ""
        else:  # a few words ("keyring", "plaintext file"): the full path does not fit
            from flashback_tui.credentials import brief_source

            header.credential = brief_source(self.session.credential_source)
        header.read_only = self.read_only
        header.profile_color = profile.color if profile is not None else None

    def workspace(self, workspace_id: str | None) -> Workspace | None:
        """A workspace by id, from the last fetch."""
        return next((w for w in self.workspaces if w.id == workspace_id), None)

    def role_in(self, workspace_id: str | None) -> Role | None:
        """The caller's role in a workspace, or None when unknown."""
        workspace = self.workspace(workspace_id)
        if workspace is None or self.user_id is None:
            return None
        return workspace.role_of(self.user_id)

    def role_label(self, workspace_id: str | None) -> str:
        """The caller's role as the platform sent it ("" when unknown), new roles as they are."""
        workspace = self.workspace(workspace_id)
        if workspace is None or self.user_id is None:
            return ""
        role = next((m.role for m in workspace.users if m.user_id == self.user_id), None)
        return "" if role is None else str(role)

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
        self.show_picker()

    def show_picker(self) -> None:
        """Make the workspace picker the current screen, just above the blank base.

        It is built on first use, so start-up does not pay for a screen it may never show.
        """
        from flashback_tui.tui.screens.workspaces import WorkspacesScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, WorkspacesScreen):
            self.pop_screen()
        if not isinstance(self.screen, WorkspacesScreen):
            self.push_screen(WorkspacesScreen())

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
                self.call_next(self.run_action, action, namespace)

            key = self.get_key_display(binding)
            yield SystemCommand(binding.description or action,
                                f"{binding.tooltip or binding.description} (key: {key})", run)
        yield from super().get_system_commands(screen)


def _profile_commands() -> Any:
    """The palette provider that switches profile (imported when the palette opens)."""
    from flashback_tui.tui.profile_commands import ProfileCommands

    return ProfileCommands


def _optional_screen(module: str, name: str) -> type[Screen[Any]] | None:
    """A screen class from a module that may not exist in this build."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), name, None)
