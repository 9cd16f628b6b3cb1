"""Base classes of every screen: the session state passed in, failed workers shown in words.

A screen gets the :class:`SessionState` when it is created and never reaches into the App;
it posts messages up (``tui.messages``) for anything that is the App's to decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from flashback_tui.tui.errors import describe_error

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState
    from flashback_tui.tui.widgets.header_bar import HeaderBar

ResultT = TypeVar("ResultT")


class ReportsWorkerErrors:
    """Mixin: route a failed worker's error to :meth:`on_worker_failed` (default: a notice)."""

    state: SessionState

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.on_worker_failed(event.worker, event.worker.error)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        """Show the error; screens override this to show it inline as well."""
        self.show_error(error)

    def show_error(self, error: BaseException, *, title: str | None = None) -> None:
        """An error as a readable notice (never a traceback)."""
        report = describe_error(error, self.state.backend_label)
        self.notify(report.text, title=title or report.title,  # type: ignore[attr-defined]
                    severity="error", timeout=8)


def fill_header(header: HeaderBar, state: SessionState, *, workspace: str = "",
                role: str = "") -> None:
    """Backend, profile, where the token lives, read-only mode and profile colour."""
    header.backend = state.backend_label
    profile = state.profile
    header.profile = "" if (state.local or profile is None or profile.is_local) else profile.name
    header.credential = state.credential
    header.read_only = state.read_only
    header.profile_color = profile.color if profile is not None else None
    header.workspace = workspace
    header.role = role


class BaseScreen(ReportsWorkerErrors, Screen[None]):
    """A full screen of the app, knowing the session it belongs to."""

    def __init__(self, state: SessionState) -> None:
        super().__init__()
        self.state = state


class BaseModal(ReportsWorkerErrors, ModalScreen[ResultT]):
    """A dialog that returns a value with ``dismiss``; Esc closes it."""

    def __init__(self, state: SessionState | None = None) -> None:
        from flashback_tui.tui.session_state import SessionState

        super().__init__()
        self.state = state if state is not None else SessionState()
