"""Keeping the embedded platform alive: restart its child when it exits, with backoff.

A :class:`Supervisor` watches a started :class:`~flashback_tui.server.runner.LocalServer`.
When the child exits by itself (killed, crashed), the supervisor hears of it at once (the
server's exit watcher), calls ``on_exit(code)``, and starts the child again on the same port
and data dir after a short backoff. Once it serves, the client given to the supervisor gets
the new admin token (so the same ``FlashbackClient`` keeps working) and
``on_restarted(url, token)`` is called. After ``max_crashes`` exits or failed starts within
``window`` seconds it stops trying and calls ``on_gave_up(log_path)``; :meth:`retry` tries
again (e.g. when the user asks to).

Every callback runs in the supervisor's own thread, never in an event loop: a Textual app
must hop to its loop. ``app.post_message(...)`` (thread-safe, returns at once) is the best
fit; ``app.call_from_thread(...)`` works too but waits for the loop, so never call
:meth:`Supervisor.stop` on the loop's own thread while a callback may be waiting for it
(stop it from a worker thread, as ``connect`` does when a session closes). A callback that
raises is logged and otherwise ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.server.runner import LocalServer

__all__ = ["DEFAULT_DELAYS", "Supervisor", "SupervisorState", "TokenHolder"]

log = logging.getLogger(__name__)

#: Pause before the 1st, 2nd, ... restart of a run of crashes (the last one repeats).
DEFAULT_DELAYS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
#: Crashes within WINDOW seconds after which the supervisor stops trying.
MAX_CRASHES = 3
WINDOW = 60.0
#: How long one restart may take before it counts as a failed start.
START_TIMEOUT = 20.0


class TokenHolder(Protocol):
    """What holds the tokens requests are sent with (a ``FlashbackClient``)."""

    def set_tokens(self, access_token: Any, refresh_token: Any = None,
                   expires_at: int | None = None) -> None:
        """Use these tokens from now on."""


class SupervisorState(StrEnum):
    """Where the supervisor is."""

    IDLE = "idle"
    RUNNING = "running"
    RESTARTING = "restarting"
    GAVE_UP = "gave_up"
    STOPPED = "stopped"


ExitCallback = Callable[[int], Any]
RestartedCallback = Callable[[str, "SecretStr"], Any]
GaveUpCallback = Callable[[Path], Any]


class Supervisor:
    """Restarts a LocalServer's child when it exits by itself (see the module docstring).

    ``delays`` are the pauses before successive restarts of a run of crashes; ``clock``
    (monotonic seconds) times the crash window. Both are for tests to shrink.
    """

    def __init__(
        self,
        server: LocalServer,
        *,
        client: TokenHolder | None = None,
        on_exit: ExitCallback | None = None,
        on_restarted: RestartedCallback | None = None,
        on_gave_up: GaveUpCallback | None = None,
        delays: Sequence[float] = DEFAULT_DELAYS,
        max_crashes: int = MAX_CRASHES,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        if not delays or max_crashes < 1:
            raise ValueError("delays must not be empty and max_crashes must be at least 1")
        self.server = server
        self.client = client
        self.on_exit, self.on_restarted, self.on_gave_up = on_exit, on_restarted, on_gave_up
        self._delays = tuple(float(delay) for delay in delays)
        self._max_crashes, self._window = max_crashes, window
        self._clock, self._start_timeout = clock, start_timeout
        self._crashes: list[float] = []
        self._state = SupervisorState.IDLE
        self._wake = threading.Event()
        self._retry = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.restarts = 0
        """How many times the child was started again."""

    # -- control ----------------------------------------------------------------------------

    @property
    def state(self) -> SupervisorState:
        """idle, running, restarting, gave_up or stopped."""
        return self._state

    @property
    def log_path(self) -> Path:
        """The platform's log (where a crash leaves its reason)."""
        return self.server.log_path

    def set_callbacks(
        self,
        *,
        on_exit: ExitCallback | None = None,
        on_restarted: RestartedCallback | None = None,
        on_gave_up: GaveUpCallback | None = None,
    ) -> None:
        """Replace the callbacks (any left out are cleared)."""
        self.on_exit, self.on_restarted, self.on_gave_up = on_exit, on_restarted, on_gave_up

    def start(self) -> None:
        """Watch the server (already started by the caller); no-op if already watching."""
        if self._thread is not None:
            return
        self._stopped = False
        self._state = SupervisorState.RUNNING
        self.server.on_exit = self._child_exited
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="local-server-supervisor")
        self._thread.start()
        if not self.server.running:  # it died before we were listening
            self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching; waits for a restart in progress. The server itself is left as it
        is (stop it after this, so no restart races the stop)."""
        self._stopped = True
        self.server.on_exit = None
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._start_timeout + 5 if timeout is None else timeout)
        self._state = SupervisorState.STOPPED

    def retry(self) -> None:
        """After giving up: forget the crashes and try to start the child again."""
        if self._state is SupervisorState.GAVE_UP:
            self._crashes.clear()
            self._retry = True
            self._wake.set()

    # -- the supervisor's thread ------------------------------------------------------------

    def _child_exited(self, code: int) -> None:
        """The server's exit watcher: wake the supervisor's thread."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopped:
                return
            if self._retry:
                self._retry = False
                self._recover()
            elif self._state is not SupervisorState.GAVE_UP and not self.server.running:
                self._crashes.append(self._clock())
                code = self.server.exit_code
                self._call(self.on_exit, -1 if code is None else code)
                self._recover()
            # else: a stale notice (the child was already started again), or given up

    def _recover(self) -> None:
        """Start the child again with backoff until it serves, or give up."""
        self._state = SupervisorState.RESTARTING
        while not self._stopped:
            recent = self._recent_crashes()
            if recent >= self._max_crashes:
                self._state = SupervisorState.GAVE_UP
                log.warning("the local platform keeps stopping; see %s", self.server.log_path)
                self._call(self.on_gave_up, self.server.log_path)
                return
            delay = self._delays[min(max(recent - 1, 0), len(self._delays) - 1)]
            if delay > 0 and self._pause(delay):
                return
            if self._restart_once():
                return
            self._crashes.append(self._clock())

    def _pause(self, delay: float) -> bool:
        """Wait ``delay`` seconds; True if the supervisor was stopped meanwhile."""
        deadline = time.monotonic() + delay
        while not self._stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._wake.wait(left)
            if self._stopped:
                break
            self._wake.clear()  # a stale exit notice of the dead child
        return True

    def _restart_once(self) -> bool:
        """One start of the child; True once it serves (tokens handed over, callback run)."""
        from flashback_tui.server.runner import LocalServerError

        try:
            self.server.start(self._start_timeout)
        except (LocalServerError, OSError) as exc:
            log.warning("the local platform did not start again: %s", str(exc).split("\n")[0])
            return False
        if self._stopped:
            return True
        self.restarts += 1
        token = self.server.admin_token
        if self.client is not None:
            self.client.set_tokens(token)
        self._state = SupervisorState.RUNNING
        self._call(self.on_restarted, self.server.url, token)
        return True

    def _recent_crashes(self) -> int:
        now = self._clock()
        self._crashes = [at for at in self._crashes if now - at < self._window]
        return len(self._crashes)

    @staticmethod
    def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("a supervisor callback failed")
