"""Base classes of every screen: failed workers become a readable message, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from flashback_tui.tui.app import FlashbackApp

ResultT = TypeVar("ResultT")


class ReportsWorkerErrors:
    """Mixin: route a failed worker's error to :meth:`on_worker_failed` (default: a notice)."""

    app: Any

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.on_worker_failed(event.worker, event.worker.error)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        """Show the error; screens override this to show it inline as well."""
        self.app.show_error(error)


class BaseScreen(ReportsWorkerErrors, Screen[None]):
    """A full screen of the app."""

    @property
    def flashback(self) -> FlashbackApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]


class BaseModal(ReportsWorkerErrors, ModalScreen[ResultT]):
    """A dialog that returns a value with ``dismiss``; Esc closes it."""

    @property
    def flashback(self) -> FlashbackApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]
