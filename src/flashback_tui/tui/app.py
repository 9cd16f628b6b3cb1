"""FlashbackApp: owns the session (client, profile, backend), routes messages, shows errors.

The first paint never waits for the network: the session opens in a worker while the first
screen shows a loading state (or the last-known list, marked cached); screens fill in when
:class:`SessionReady` arrives. Screens get
the :class:`SessionState` when they are created and post messages up (``OpenWorkspace``,
``ShowDetails``, ``OpenStats``, ...); this module decides what happens.
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

from flashback_tui.tui.app_session import SessionWatch
from flashback_tui.tui.console_routes import ConsoleRoutes
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import (
    OpenStats,
    OpenWorkspace,
    Reconnect,
    SessionFailed,
    SessionReady,
    ShowDetails,
    ShowPicker,
)
from flashback_tui.tui.session_state import SessionState

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Workspace
    from flashback_tui.connect import Session
    from flashback_tui.settings import Profile
    from flashback_tui.snapshot import SnapshotKey, SnapshotStore

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


class FlashbackApp(ConsoleRoutes, SessionWatch, App[None]):
    """The flashback-tui application.

    ``snapshots`` keeps last-known lists (None: none kept); ``startup_key`` names the one to
    paint in the first frame (see :func:`flashback_tui.snapshot_identity.startup_key`).
    """

    CSS_PATH = "app.tcss"
    TITLE = "flashback-tui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {lambda: _profile_commands()}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, id="app.quit_ctrl_c"),
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
        snapshots: SnapshotStore | None = None,
        startup_key: SnapshotKey | None = None,
    ) -> None:
        super().__init__()
        self.snapshots = snapshots
        self.startup_key = startup_key
        self._unreachable = False
        self._opener = opener
        self._open_overrides: dict[str, Any] = {}
        self.state = SessionState(read_only=read_only,
                                  backend_label=backend_label or backend_label_for(profile),
                                  profile=profile, opening=opener is not None)
        self.session: Session | None = None
        self._exit_stack: AsyncExitStack | None = None
        self._theme_ready = False
        if profile is not None and profile.keymap:
            self.set_keymap(profile.keymap)

    # -- the session state, as attributes (tests and scripts read them) ------------------------

    @property
    def client(self) -> FlashbackClient | None:
        """The signed-in client, None until the session is open."""
        return self.state.client

    @property
    def workspaces(self) -> list[Workspace]:
        """The caller's workspaces."""
        return self.state.workspaces

    @workspaces.setter
    def workspaces(self, value: list[Workspace]) -> None:
        self.state.workspaces = value

    @property
    def user_id(self) -> str | None:
        """The caller's user id, when known."""
        return self.state.user_id

    @user_id.setter
    def user_id(self, value: str | None) -> None:
        self.state.user_id = value

    @property
    def read_only(self) -> bool:
        """Whether every write is hidden and refused."""
        return self.state.read_only

    @property
    def backend_label(self) -> str:
        """Where the session goes, in a few words."""
        return self.state.backend_label

    @property
    def profile(self) -> Profile:
        """The profile in use (the built-in local one until the session says otherwise)."""
        if self.state.profile is None:
            from flashback_tui.settings import builtin_local_profile

            self.state.profile = builtin_local_profile()
        return self.state.profile

    def apply_profile(self, profile: Profile) -> None:
        """Use a profile's keymap and theme; warn about names that do not exist."""
        self.state.profile = profile
        if profile.keymap:
            self.set_keymap(profile.keymap)
        if profile.theme and profile.theme in self.available_themes:
            self.theme = profile.theme

    def warn_about_settings(self, profile: Profile) -> None:
        """A warning naming an unknown theme or binding id of the profile's settings."""
        from flashback_tui.settings import unknown_settings
        from flashback_tui.tui.binding_ids import known_binding_ids

        own = {b.id for b in self.BINDINGS if isinstance(b, Binding) and b.id}
        for problem in unknown_settings(profile, themes=set(self.available_themes),
                                        binding_ids=known_binding_ids() | own):
            self.notify(problem, title="Settings", severity="warning", timeout=10)

    # ----------------------------------------------------------------------------------------
    # Start-up and session
    # ----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        profile = self.state.profile
        if profile is not None and profile.theme and profile.theme in self.available_themes:
            self.theme = profile.theme
        self._theme_ready = True
        if self._opener is not None:
            # Show the list frame at once; once the workspaces are known it either opens
            # the only (or default) workspace or gives way to the picker below it.
            from flashback_tui.tui.screens.config_list import ConfigListScreen

            snapshot = self.startup_snapshot()
            self.push_screen(ConfigListScreen(self.state, None, "", pending=True,
                                              snapshot=snapshot))
            # After the first frame: opening imports the session machinery on this thread.
            # Cached rows are drawn one frame later still (with their marker): open after.
            if snapshot is None:
                self.call_after_refresh(self.open_session)
            else:
                self.call_after_refresh(self.call_after_refresh, self.open_session)

    def get_default_screen(self) -> Screen[Any]:
        """A blank base while a session opens; the picker when there is no session."""
        if self._opener is None:
            from flashback_tui.tui.screens.workspaces import WorkspacesScreen

            return WorkspacesScreen(self.state)
        return super().get_default_screen()

    @property
    def connecting(self) -> bool:
        """True until the session is open (or has failed)."""
        return self.state.connecting

    def reconnect(self) -> None:
        """Open the session again (after a failure); no-op while one is opening."""
        if self.retry_platform():
            return
        opening = any(w.group == "session" and w.is_running for w in self.workers)
        if self._opener is not None and not opening:
            self.open_session()

    def on_reconnect(self, _: Reconnect) -> None:
        self.reconnect()

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
        state = self.state
        state.workspaces, state.user_id, state.session_error = [], None, None
        state.client, state.opening = None, True
        self.apply_profile(profile)
        state.backend_label = backend_label_for(profile)
        self.push_screen(ConfigListScreen(state, None, "", pending=True))
        self.open_session()

    @work(group="session", exclusive=True, exit_on_error=False)
    async def open_session(self) -> None:
        """Open the session (start the embedded server if needed), then load workspaces."""
        assert self._opener is not None
        state = self.state
        state.session_error, state.opening = None, True
        await self._close_session()
        stack = AsyncExitStack()
        try:
            session = await stack.enter_async_context(self._opener(**self._open_overrides))
        except BaseException:
            await stack.aclose()
            raise
        self._exit_stack = stack
        self.session = session
        self.apply_profile(session.profile)
        state.backend_label = backend_label_for(session.profile,
                                                None if session.local_server else session.url)
        state.local = session.local_server is not None
        state.credential = "" if state.local else _brief_source(session.credential_source)
        answer = await session.client.get_workspaces()
        state.workspaces = list(answer.workspaces)
        state.client = session.client
        state.user_id = self._identify_user()
        self._unreachable = False
        self.check_painted_key(session)
        self.watch_platform(session)
        for screen in self.screen_stack:
            screen.post_message(SessionReady())
        self._open_single_workspace()
        self.warn_about_settings(session.profile)

    async def load_workspaces(self) -> list[Workspace]:
        """Fetch the caller's workspaces again."""
        client = self.state.client
        assert client is not None
        answer = await client.get_workspaces()
        self.state.workspaces = list(answer.workspaces)
        self.state.user_id = self._identify_user()
        return self.state.workspaces

    def _open_single_workspace(self) -> None:
        """With exactly one workspace and no list open yet, go straight to it."""
        from flashback_tui.tui.screens.config_list import ConfigListScreen

        workspaces = self.state.workspaces
        if len(workspaces) == 1 and not any(
            isinstance(screen, ConfigListScreen) for screen in self.screen_stack
        ):
            self.push_screen(ConfigListScreen(self.state, workspaces[0].id, workspaces[0].name))

    def _identify_user(self) -> str | None:
        """The caller's user id: by e-mail, else the one member common to every workspace."""
        email = LOCAL_ADMIN_EMAIL if (self.session and self.session.local_server) else None
        email = email or self.profile.email
        workspaces = self.state.workspaces
        if email:
            for workspace in workspaces:
                for member in workspace.users:
                    if member.user and member.user.email.lower() == email.lower():
                        return member.user_id
        common: set[str] | None = None
        for workspace in workspaces:
            members = {member.user_id for member in workspace.users}
            common = members if common is None else common & members
        if common is not None and len(common) == 1:
            return next(iter(common))
        return None

    async def _close_session(self) -> None:
        stack, self._exit_stack = self._exit_stack, None
        self.state.client = None
        self.session = None
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()

    async def on_unmount(self) -> None:
        await self._close_session()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if event.worker.group == "session":
            self.state.session_error = error
            self.state.opening = False
            for screen in self.screen_stack:
                screen.post_message(SessionFailed(error))
            if self._offer_sign_in(error):
                return
            if self._unreachable and _unreachable(error):
                return  # said once; the list says it is offline and keeps retrying
            self._unreachable = _unreachable(error)
        self.show_error(error)

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

    def show_error(self, error: BaseException, *, title: str | None = None) -> None:
        """The one place that turns an error into a readable notice."""
        report = describe_error(error, self.state.backend_label)
        self.notify(report.text, title=title or report.title, severity="error", timeout=8)

    # ----------------------------------------------------------------------------------------
    # Themes: one picked in the palette is kept for the profile
    # ----------------------------------------------------------------------------------------

    def watch_theme(self, theme: str) -> None:
        profile = self.state.profile
        if not self._theme_ready or profile is None or profile.theme == theme:
            return
        self.state.profile = profile.model_copy(update={"theme": theme})
        self._keep_theme(self.state.profile)

    @work(group="settings", thread=True, exit_on_error=False)
    def _keep_theme(self, profile: Profile) -> None:
        """Write the theme into the profile's settings (a thread: it touches the disk)."""
        from flashback_tui.settings import SettingsError, save_profile

        try:
            save_profile(profile)
        except SettingsError as exc:
            self.call_from_thread(self.notify, f"Theme not kept: {exc}", severity="warning")

    # ----------------------------------------------------------------------------------------
    # Navigation: what screens ask for
    # ----------------------------------------------------------------------------------------

    def on_open_workspace(self, message: OpenWorkspace) -> None:
        from flashback_tui.tui.screens.config_list import ConfigListScreen

        self.push_screen(ConfigListScreen(self.state, message.workspace_id,
                                          message.workspace_name))

    def on_show_picker(self, _: ShowPicker) -> None:
        self.show_picker()

    def on_open_stats(self, message: OpenStats) -> None:
        self.open_stats(message.workspace_id, message.workspace_name)

    def on_show_details(self, message: ShowDetails) -> None:
        from flashback_tui.tui.screens.config_detail import ConfigDetailScreen

        self.push_screen(ConfigDetailScreen(self.state, message.llm,
                                            session_status=message.session_status))

    def action_workspaces(self) -> None:
        """Back to the workspace list from anywhere."""
        self.show_picker()

    def show_picker(self) -> None:
        """Make the workspace picker the current screen, just above the blank base."""
        from flashback_tui.tui.screens.workspaces import WorkspacesScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, WorkspacesScreen):
            self.pop_screen()
        if not isinstance(self.screen, WorkspacesScreen):
            self.push_screen(WorkspacesScreen(self.state))

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
        self.push_screen(screen_class(self.state, workspace_id, workspace_name))

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


def _unreachable(error: BaseException) -> bool:
    from flashback_tui.tui.screens.list_screen import unreachable

    return unreachable(error)


def _brief_source(source: str) -> str:
    from flashback_tui.credentials import brief_source

    return brief_source(source)


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
