"""Driving a terminal app from outside for the benchmarks: tmux panes.

:class:`Pane` runs one app in its own tmux session on a private tmux server and waits for
text on its screen; :func:`idle_cpu` reads the CPU an idle app and its children use.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable

from support.procfs import cpu_seconds, process_tree

WIDTH, HEIGHT = 120, 40
#: Fallback screen poll when the app writes nothing (seconds).
POLL = 0.05


# ---------------------------------------------------------------------------------------------
# Driving a terminal from outside: tmux
# ---------------------------------------------------------------------------------------------


class Pane:
    """One app running in its own tmux session on a private tmux server.

    A tmux control-mode client follows the pane and wakes :meth:`wait_for` whenever the app
    writes to the terminal, so the screen is captured only when it may have changed (plus a
    slow fallback poll): the measurement costs little CPU next to the app being measured.
    """

    def __init__(self, server: str, name: str) -> None:
        self.server = server
        self.name = name
        self.started = 0.0
        self.changed = threading.Event()
        self.control: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[list[str]] = queue.Queue()
        self._ask = threading.Lock()

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True,
                              text=True, check=check)
        return done.stdout

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        command = ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
        self.started = time.perf_counter()
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(WIDTH), "-y", str(HEIGHT),
                  "--", *command)
        self.control = subprocess.Popen(
            ["tmux", "-L", self.server, "-C", "attach", "-t", self.name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._follow, args=(self.control,), daemon=True).start()

    def _follow(self, control: subprocess.Popen[bytes]) -> None:
        """Read the control client: output notices wake waiters; command replies are queued."""
        assert control.stdout is not None
        block: list[str] | None = None
        closing: tuple[bytes, bytes] = (b"", b"")
        for line in control.stdout:
            if block is not None:
                if line.startswith(closing):
                    self._replies.put(block)
                    block = None
                else:
                    block.append(line.decode(errors="replace").rstrip("\n"))
            elif line.startswith(b"%begin "):
                # %begin TIME NUMBER FLAGS ... %end TIME NUMBER FLAGS (or %error)
                tag = line.split(b" ", 1)[1].rsplit(b" ", 1)[0]
                closing = (b"%end " + tag, b"%error " + tag)
                block = []
            elif line.startswith(b"%output"):
                self.changed.set()
        self.changed.set()

    def text(self) -> str:
        """The pane's text, asked over the control client (no tmux process per capture)."""
        control = self.control
        if control is None or control.poll() is not None or control.stdin is None:
            return self.tmux("capture-pane", "-p", "-t", self.name, check=False)
        with self._ask:
            control.stdin.write(f"capture-pane -p -t {self.name}\n".encode())
            control.stdin.flush()
            try:
                # Skip the empty reply to the attach itself, which may still be queued.
                while not (reply := self._replies.get(timeout=10)):
                    pass
            except queue.Empty:
                return self.tmux("capture-pane", "-p", "-t", self.name, check=False)
            return "\n".join(reply)

    def send(self, *keys: str) -> float:
        """Send keys; return the time just before sending."""
        now = time.perf_counter()
        self.tmux("send-keys", "-t", self.name, *keys)
        return now

    def wait_for(self, predicate: Callable[[str], bool], limit: float = 60.0,
                 what: str = "text") -> float:
        """Poll until ``predicate(screen text)``; return the time it first held."""
        deadline = time.perf_counter() + limit
        while True:
            self.changed.clear()
            screen = self.text()
            now = time.perf_counter()
            if predicate(screen):
                return now
            if now > deadline:
                raise TimeoutError(f"{what} not on screen after {limit:.0f} s:\n{screen}")
            self.changed.wait(POLL)

    def pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def stop(self) -> None:
        pids = process_tree(self.pid()) if self.alive() else []
        self.tmux("send-keys", "-t", self.name, "q", check=False)
        deadline = time.perf_counter() + 5
        while self.alive() and time.perf_counter() < deadline:
            time.sleep(0.05)
        self.tmux("kill-session", "-t", self.name, check=False)
        if self.control is not None:
            self.control.kill()
            self.control.wait()
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def alive(self) -> bool:
        done = subprocess.run(["tmux", "-L", self.server, "has-session", "-t", self.name],
                              capture_output=True)
        return done.returncode == 0


def idle_cpu(pane: Pane, seconds: float) -> tuple[float, float]:
    """Percent of one core used over ``seconds``: (TUI process, TUI + its children)."""
    app_pid = pane.pid()
    tree = process_tree(app_pid)
    before = {pid: cpu_seconds(pid) for pid in tree}
    start = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - start
    after = {pid: cpu_seconds(pid) for pid in tree}
    used = {pid: after[pid] - before[pid] for pid in tree}
    return 100 * used[app_pid] / elapsed, 100 * sum(used.values()) / elapsed
