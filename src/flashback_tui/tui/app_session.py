"""What the App does around its session: last-known lists and the embedded platform's health.

:class:`SessionWatch` is a part of :class:`~flashback_tui.tui.app.FlashbackApp`: it loads the
snapshot painted in the first frame, drops it when the session turns out to be someone
else's, keeps every live list (``ConfigsShown``) as the next start's snapshot, and turns the
supervisor's reports (which arrive on its own thread) into messages that every screen gets.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from flashback_tui.tui.messages import (
    ConfigsShown,
    DropCached,
    PlatformGaveUp,
    PlatformRestarted,
    PlatformStopped,
)

if TYPE_CHECKING:
    from textual.message import Message

    from flashback_tui.connect import Session
    from flashback_tui.snapshot import Snapshot, SnapshotKey, SnapshotStore
    from flashback_tui.tui.session_state import SessionState

#: What the list says while the embedded platform's child is started again.
STOPPED_TEXT = "The local platform stopped (exit code {code}); restarting…"
GAVE_UP_TEXT = ("The local platform keeps stopping and is no longer restarted; "
                "its log: {path} (r: try again)")
RETRYING_TEXT = "Starting the local platform again…"


class SessionWatch:
    """Snapshots and supervision for the App (mixed into it; needs its ``state``)."""

    state: SessionState
    session: Session | None
    snapshots: SnapshotStore | None
    startup_key: SnapshotKey | None
    user_id: str | None

    # -- last-known lists -------------------------------------------------------------------

    def startup_snapshot(self) -> Snapshot | None:
        """The last-known list to paint in the first frame (cheap: read on the loop)."""
        if self.snapshots is None or self.startup_key is None:
            return None
        return self.snapshots.load_latest(self.startup_key)

    def check_painted_key(self, session: Session) -> None:
        """Drop cached rows painted for another user, platform or profile."""
        from flashback_tui.connect import snapshot_key

        if self.startup_key is None:
            return
        actual = snapshot_key(session, None, user_id=self.user_id)
        if actual is None or actual != self.startup_key.with_workspace(None):
            self._broadcast(DropCached())

    def on_configs_shown(self, message: ConfigsShown) -> None:
        from flashback_tui.connect import snapshot_key

        if self.snapshots is None or self.session is None:
            return
        key = snapshot_key(self.session, message.workspace_id, user_id=self.user_id)
        if key is not None:
            self._keep_snapshot(key, message)

    # A description of its own: Textual's default is the repr of the arguments, which for a
    # list of 10,000 configurations costs more than the save.
    @work(group="snapshot", exit_on_error=False, description="keep the last-known list")
    async def _keep_snapshot(self, key: SnapshotKey, message: ConfigsShown) -> None:
        """Write the list off the event loop (statuses worked out there too)."""
        store = self.snapshots
        assert store is not None
        await asyncio.to_thread(_save, store, key, message)

    # -- the embedded platform --------------------------------------------------------------

    def watch_platform(self, session: Session) -> None:
        """Hear of the supervisor's restarts (callbacks on its thread: messages only)."""
        supervisor = session.supervisor
        if supervisor is None:
            return
        post = self.post_message  # type: ignore[attr-defined]
        supervisor.set_callbacks(
            on_exit=lambda code: post(PlatformStopped(code)),
            on_restarted=lambda _url, _token: post(PlatformRestarted()),
            on_gave_up=lambda path: post(PlatformGaveUp(str(path))),
        )

    def retry_platform(self) -> bool:
        """After the supervisor gave up: ask it to try again. False when it had not."""
        supervisor = self.session.supervisor if self.session is not None else None
        if supervisor is None or not self.state.platform_gave_up:
            return False
        self.state.platform_gave_up = False
        self.state.platform_trouble = RETRYING_TEXT
        supervisor.retry()
        return True

    def on_platform_stopped(self, message: PlatformStopped) -> None:
        # Said on the list itself (a toast would outlive the restart).
        self.state.platform_trouble = STOPPED_TEXT.format(code=message.code)
        self._broadcast(message)

    def on_platform_restarted(self, message: PlatformRestarted) -> None:
        self.state.platform_trouble, self.state.platform_gave_up = "", False
        self.notify("The local platform is back.", title="Local platform")  # type: ignore[attr-defined]
        self._broadcast(message)

    def on_platform_gave_up(self, message: PlatformGaveUp) -> None:
        self.state.platform_gave_up = True
        self.state.platform_trouble = GAVE_UP_TEXT.format(path=message.log_path)
        self.notify(self.state.platform_trouble, title="Local platform",  # type: ignore[attr-defined]
                    severity="error", timeout=15)
        self._broadcast(message)

    def _broadcast(self, message: Message) -> None:
        """Hand a copy of ``message`` to every screen."""
        for screen in self.screen_stack:  # type: ignore[attr-defined]
            screen.post_message(_copy(message))


def _copy(message: Message) -> Message:
    """A fresh message of the same kind (one message instance is handled once)."""
    from dataclasses import fields

    return type(message)(**{f.name: getattr(message, f.name) for f in fields(message)})  # type: ignore[arg-type]


def _save(store: SnapshotStore, key: SnapshotKey, message: ConfigsShown) -> None:
    from flashback_tui.domain.status import config_status
    from flashback_tui.snapshot import rows_from_llms

    statuses = {llm.id: config_status(llm, outcome=message.outcomes.get(llm.id),
                                      available=message.available) for llm in message.llms}
    store.save(key, rows_from_llms(message.llms, statuses),
               workspace_name=message.workspace_name)

