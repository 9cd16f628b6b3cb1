"""Running the local platform: in the foreground (``serve``) or embedded in a child process.

Embedded mode (``serve --embedded``) binds the port itself, starts uvicorn on that socket,
and once it listens prints one JSON line on stdout: ``{"url", "token", "refreshToken",
"expiresAt", "pid"}`` with a fresh access token for admin@localhost. It exits when its stdin
closes, so it never outlives the process that started it. :class:`LocalServer` is the
parent side of that protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import SecretStr


#: How long an embedded admin token lives.
EMBEDDED_TOKEN_TTL = 30 * 24 * 3600
LOG_FILENAME = "server.log"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # An explicit IPPROTO_TCP matters: asyncio turns on TCP_NODELAY for accepted connections
    # only when the listening socket says so; without it every response stalls ~40 ms on
    # the client's delayed ACK (headers and body are separate writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def base_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts bracketed)."""
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _uvicorn_server(app: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
        server_header=False,
        log_config=None,
    )
    return uvicorn.Server(config)


async def _serve_until_done(server: Any, sock: socket.socket, on_ready: Any) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn sets a plain flag
        await asyncio.sleep(0.01)
    if server.started:
        on_ready()
    await task


def _settings(data_dir: Path, database_url: str | None) -> Any:
    """The server's settings; ``database_url`` (``serve --database-url``) beats the variable.

    A bad ``FLASHBACK_*`` value raises :class:`SettingsProblem` before anything is opened.
    """
    from flashback_tui.server.config import ServerSettings

    if database_url:
        return ServerSettings.read(data_dir=data_dir, database_url=database_url)
    return ServerSettings.read(data_dir=data_dir)


def run_foreground(data_dir: Path, host: str, port: int, *,
                   database_url: str | None = None) -> None:
    """Serve until interrupted; prints where it listens and where the data lives."""
    import click

    from flashback_tui.server.app import create_app
    from flashback_tui.server.state import PlatformState

    _configure_logging()
    settings = _settings(data_dir, database_url)
    state = PlatformState.open(data_dir, database_url=database_url)
    try:
        sock = bind_socket(host, port)
    except OSError:
        state.close()
        raise
    actual_port = sock.getsockname()[1]
    server = _uvicorn_server(create_app(settings, state=state))

    def ready() -> None:
        click.echo(f"Flashback local platform listening on {base_url(host, actual_port)}")
        click.echo(f"Data dir: {state.data_dir}")
        click.echo(f"Database: {state.db.display_url}")
        where = (f"--data-dir {state.data_dir}" if state.db.path is not None else
                 "(with FLASHBACK_DATABASE_URL and FLASHBACK_MASTER_KEY as this server has them)")
        click.echo(f"Get a token with: flashback-tui admin token create admin@localhost {where}")

    try:
        asyncio.run(_serve_until_done(server, sock, ready))
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        click.echo("Stopped.", err=True)
    finally:
        sock.close()


def run_embedded(data_dir: Path, host: str, port: int, *,
                 database_url: str | None = None) -> None:
    """Serve for a parent process: ready lines on stdout, exit when stdin closes.

    The first line (url and a fresh admin token) is written as soon as the socket listens,
    before the web stack is even imported: the parent can send requests at once, and the
    kernel queues them until the app serves, so the parent's start-up and ours overlap. A
    second line, ``{"serving": true}``, follows when the app answers.
    """
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import base as store_base
    from flashback_tui.server.store import users as user_store

    _configure_logging()
    settings = _settings(data_dir, database_url)
    state = PlatformState.open(data_dir, database_url=database_url)
    conn = state.db.conn()
    admin_id = user_store.require_user(conn, store_base.LOCAL_ADMIN_EMAIL)["id"]
    access = user_store.issue_token(conn, admin_id, "access", EMBEDDED_TOKEN_TTL)
    refresh = user_store.issue_token(conn, admin_id, "refresh", EMBEDDED_TOKEN_TTL)
    sock = bind_socket(host, port)
    _announce({
        "url": base_url(host, sock.getsockname()[1]),
        "token": access.token.get_secret_value(),
        "refreshToken": refresh.token.get_secret_value(),
        "expiresAt": access.expires_at,
        "pid": os.getpid(),
    })

    from flashback_tui.server.app import create_app

    server = _uvicorn_server(create_app(settings, state=state))

    def ready() -> None:
        _announce({"serving": True})
        loop = asyncio.get_running_loop()
        threading.Thread(target=_exit_on_stdin_eof, args=(loop, server), daemon=True,
                         name="stdin-watch").start()

    try:
        asyncio.run(_serve_until_done(server, sock, ready))
    finally:
        sock.close()
    # The lifespan has closed the database; skip the interpreter's slow teardown (most of a
    # second for this many modules) so the parent's stop() returns promptly.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _announce(message: dict[str, Any]) -> None:
    """One JSON line to the parent on stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _exit_on_stdin_eof(loop: asyncio.AbstractEventLoop, server: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(4096):
            pass
    with contextlib.suppress(RuntimeError):  # loop already closed
        loop.call_soon_threadsafe(setattr, server, "should_exit", True)


class LocalServerError(RuntimeError):
    """The embedded server failed to start (the message carries its log's last lines)."""


class LocalServer:
    """The local platform in a child process on loopback, for the TUI, the CLI and tests.

    ``start()`` blocks until the child listens and has handed over a fresh admin access
    token through its stdout pipe (never argv or env). ``stop()`` closes the child's stdin
    and waits; ``start()`` again reuses the same port. The child's stderr goes to
    ``log_path`` (default ``server.log`` in the data dir).

    A thread blocked on the child's exit notices at once when a started child exits by
    itself (killed, crashed): ``exit_code`` is set and ``on_exit(code)`` is called in that
    thread (a negative code is the signal that killed it). Exits caused by ``stop()`` or by
    a failed ``start()`` are not reported. :class:`flashback_tui.supervisor.Supervisor`
    builds restarts on this.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.env = dict(env or {})
        self.log_path = Path(log_path) if log_path else self.data_dir / LOG_FILENAME
        self._log_start = 0
        self.url = ""
        self._tokens: tuple[str, str] = ("", "")
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes] | None = None
        self._serving = False
        self._started_at = 0.0
        self._start_timeout = 0.0
        self._lock = threading.Lock()
        self._ready_proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None
        """The exit code of the last child that exited by itself (None while none has)."""
        self.on_exit: Callable[[int], None] | None = None
        """Called (in a thread of its own) with the exit code of a child that exited by itself."""

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def admin_token(self) -> SecretStr:
        """An access token of admin@localhost, fresh from this start (empty before)."""
        from pydantic import SecretStr

        return SecretStr(self._tokens[0])

    @property
    def refresh_token(self) -> SecretStr:
        """The refresh token that goes with ``admin_token``."""
        from pydantic import SecretStr

        return SecretStr(self._tokens[1])

    def spawn(self) -> None:
        """Launch the child without waiting for it (``start()`` then waits for its line).

        Cheap and free of heavy imports, so a caller can get the child going first and do
        its own start-up while the child does its own.
        """
        if self._proc is not None and self._proc.poll() is None:
            return
        from flashback_tui.server.data_dir import ensure_data_dir

        ensure_data_dir(self.data_dir)
        command = [sys.executable, "-m", "flashback_tui", "serve", "--embedded",
                   "--host", self.host, "--port", str(self.port),
                   "--data-dir", str(self.data_dir)]
        env = {**os.environ, **self.env}
        _close_streams(self._proc)  # a child that died by itself leaves its pipes open
        with open(self.log_path, "ab") as log:
            os.chmod(self.log_path, 0o600)
            self._log_start = log.seek(0, os.SEEK_END)  # this start's lines begin here
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                start_new_session=True, close_fds=True,
            )
        self._proc = proc
        self._lines, self._serving = None, False
        threading.Thread(target=self._watch, args=(proc,), daemon=True,
                         name=f"local-server-{proc.pid}").start()

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        """Wait for the child to exit; report it if it was started and not stopped by us."""
        code = proc.wait()
        with self._lock:
            unexpected = proc is self._ready_proc
            if unexpected:
                self._ready_proc = None
                self.exit_code = code
        callback = self.on_exit
        if unexpected and callback is not None:
            try:
                callback(code)
            except Exception:  # a listener's bug must not go unseen, nor kill this thread
                logging.getLogger(__name__).exception("on_exit callback failed")

    def wait_exit(self, timeout: float | None = None) -> int | None:
        """Wait for the current child to exit; its exit code, or None (none, or still up)."""
        proc = self._proc
        if proc is None:
            return None
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def start(self, timeout: float = 20.0, *, wait_serving: bool = True) -> None:
        """Spawn the child (unless ``spawn()`` did) and wait for its ready line.

        Raises LocalServerError on failure. With ``wait_serving=False`` this returns as soon
        as the child listens (a few hundred ms sooner): requests sent meanwhile wait in the
        socket's backlog until the app serves. ``wait_serving()`` waits for that moment.
        """
        if self.running and self._lines is not None:
            if wait_serving:
                self.wait_serving()
            return
        self.spawn()
        ready = self._read_ready_line(timeout)
        self._started_at = time.monotonic()
        self._start_timeout = timeout
        self.url = ready["url"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self._tokens = (ready["token"], ready.get("refreshToken", ""))
        self.pid = int(ready.get("pid", self._proc.pid))
        with self._lock:  # from now on the watcher reports an exit
            alive = self._proc.poll() is None
            self._ready_proc = self._proc if alive else None
            self.exit_code = None
        if not alive:
            self.stop()
            raise LocalServerError(f"the local server exited as it started{self._log_tail()}")
        if wait_serving:
            self.wait_serving()

    def wait_serving(self, timeout: float | None = None) -> None:
        """Block until the child's app answers requests; LocalServerError if it never does."""
        if self._serving or self._lines is None:
            return
        if timeout is None:
            timeout = max(0.1, self._start_timeout - (time.monotonic() - self._started_at))
        try:
            raw = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise LocalServerError(f"the local server did not start within {timeout:g} s"
                                   f"{self._log_tail()}") from None
        try:
            self._serving = bool(json.loads(raw).get("serving"))
        except (ValueError, AttributeError):
            self._serving = False
        if not self._serving:
            self.stop()
            raise LocalServerError(f"the local server failed to start{self._log_tail()}")

    def _read_ready_line(self, timeout: float) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        self._lines, self._serving = lines, False
        reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True)
        reader.start()
        try:
            raw = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise LocalServerError(f"the local server did not start within {timeout:g} s"
                                   f"{self._log_tail()}") from None
        try:
            ready = json.loads(raw)
            if not isinstance(ready, dict) or "url" not in ready or "token" not in ready:
                raise ValueError
        except ValueError:
            self.stop()
            raise LocalServerError(f"the local server failed to start{self._log_tail()}"
                                   ) from None
        return ready

    def _log_tail(self, limit: int = 2000) -> str:
        """The last lines the child of the latest start wrote to the log (not earlier ones)."""
        try:
            with open(self.log_path, "rb") as log:
                end = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_start, end - limit))
                text = log.read().decode(errors="replace").strip()
        except OSError:
            return ""
        # The child's own "Error: " prefix would read twice after "failed to start:".
        text = "\n".join(line.removeprefix("Error: ") for line in text.splitlines())
        return f":\n{text}" if text else ""

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the child to exit (close its stdin), then terminate or kill if it lingers."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._ready_proc = None
        self._lines, self._serving = None, False
        if proc is None:
            return
        _close_streams(proc)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close_streams(proc: subprocess.Popen[bytes] | None) -> None:
    """Close our ends of a child's stdin and stdout pipes (closing stdin asks it to exit)."""
    if proc is None:
        return
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _read_lines(stream: IO[bytes], out: queue.Queue[bytes]) -> None:
    """Hand the child's stdout lines to the parent until EOF (then one empty line)."""
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            out.put(line)
    out.put(b"")
