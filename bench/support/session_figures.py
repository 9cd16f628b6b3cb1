"""The TUI benchmark's session figures: rows from the last-known list, from a distant
platform, and back after the embedded platform's child is killed.

They measure what the TUI shows once it paints snapshots: a list painted from its snapshot
carries a marker (the text ``cached`` on screen), and a stopped platform is said in words
(``stopped``, ``restarting``, ``offline`` or ``cannot reach``). When the TUI does not (yet)
do that, the figure is reported as skipped, with the reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.delay_proxy import DelayProxy
from support.pane import Pane, process_tree

CACHED = "cached"
TROUBLE = ("stopped", "restarting", "offline", "cannot reach")
ROWS = r"cfg-\d{3}"
#: The distant platform: 100 ms each way, 200 ms per round trip.
ONE_WAY = 0.1
#: A started TUI must keep a snapshot within this long after its live rows are on screen.
SNAPSHOT_WAIT = 10.0
FAR_PROFILE = "far"
LOCAL_ADMIN = "admin@localhost"


def rows_on(screen: str) -> bool:
    return re.search(ROWS, screen) is not None


def cached(screen: str) -> bool:
    return CACHED in screen.lower()


def troubled(screen: str) -> bool:
    lower = screen.lower()
    return any(word in lower for word in TROUBLE)


def live_rows(screen: str) -> bool:
    return rows_on(screen) and not cached(screen) and not troubled(screen)


def first_rows(pane: Pane) -> tuple[float, str]:
    """When rows first showed, and the screen at that moment."""
    box: dict[str, str] = {}

    def seen(screen: str) -> bool:
        box["screen"] = screen
        return rows_on(screen)

    return pane.wait_for(seen, what="the first rows"), box["screen"]


def embedded_child(pane: Pane) -> int | None:
    """The pid of the TUI's embedded platform (``serve --embedded``), if it runs one."""
    for pid in process_tree(pane.pid())[1:]:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and b"--embedded" in argv:
            return pid
    return None


class PlatformBack:
    """Notes when a new embedded child (not ``old``) answers HTTP on its port."""

    def __init__(self, pane: Pane, old: int) -> None:
        self.pane, self.old = pane, old
        self.at: float | None = None

    def check(self) -> bool:
        """Look once (cheap enough to run on every screen poll); always True."""
        if self.at is None and self._serving():
            self.at = time.perf_counter()
        return True

    def _serving(self) -> bool:
        pid = embedded_child(self.pane)
        if pid in (None, self.old):
            return False
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        try:
            port = int(argv[argv.index(b"--port") + 1])
            with socket.create_connection(("127.0.0.1", port), timeout=0.1) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return conn.recv(1) != b""
        except (ValueError, IndexError, OSError):
            return False


class SessionFigures:
    """The four figures, measured with a :class:`tui_bench.Bench` (panes, env, report)."""

    def __init__(self, bench: Any) -> None:
        self.bench = bench
        self.caches = 0

    def fresh_cache(self) -> Path:
        self.caches += 1
        return self.bench.workdir / f"cache-session-{self.caches}"

    # -- first rows from the snapshot ----------------------------------------------------

    def from_snapshot(self, data_dir: Path) -> None:
        what, target = "first rows of 100 configs from the snapshot", "<= 1.5x minimal"
        argv = self.bench.app_argv(data_dir)
        self._snapshot_figure(what, target, argv, lambda cache: self.bench.env(cache=cache))

    def through_proxy(self, data_dir: Path) -> None:
        """The same against a platform 200 ms away (round trip), through the delay proxy."""
        from flashback_tui.server.runner import LocalServer

        what = "first rows from the snapshot, platform 200 ms away"
        far_dir = self.bench.workdir / "dfar"
        shutil.copytree(data_dir, far_dir)
        with LocalServer(far_dir) as server, DelayProxy(server.port, delay=ONE_WAY) as proxy:
            self._far_profile(proxy.url, server)
            argv = [*self.bench.app_argv(data_dir), "--profile", FAR_PROFILE]

            def env(cache: Path) -> dict[str, str]:
                return {**self.bench.env(cache=cache),
                        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}

            self._snapshot_figure(what, "<= 1.5x minimal", argv, env, show_live=True)

    def _far_profile(self, url: str, server: Any) -> None:
        """A saved remote profile on ``url`` with a stored credential of the local admin."""
        from flashback_tui.credentials import FileStore, StoredCredential
        from flashback_tui.settings import Profile

        config = self.bench.workdir / "config"
        with (config / "settings.toml").open("a") as settings:
            settings.write(f'\n[profiles.{FAR_PROFILE}]\nurl = "{url}"\n'
                           f'email = "{LOCAL_ADMIN}"\ninsecure_storage = true\n')
        profile = Profile(name=FAR_PROFILE, url=url, insecure_storage=True)
        FileStore(config / "credentials").save(profile, StoredCredential(
            server.admin_token, server.refresh_token, None, LOCAL_ADMIN, url))

    def _snapshot_figure(self, what: str, target: str, argv: list[str],
                         env: Callable[[Path], dict[str, str]], show_live: bool = False
                         ) -> None:
        bench = self.bench
        cache = self.fresh_cache()
        if not self._warm_up(argv, env(cache), cache):
            bench.add(what, "skipped", target, None,
                      f"the TUI kept no snapshot in {cache.name}/snapshots after a live list")
            return
        times, lives, plain = [], [], 0
        for _ in range(bench.runs):
            pane = bench.pane()
            pane.start(argv, env(cache))
            seen, screen = first_rows(pane)
            if cached(screen):
                times.append(seen - pane.started)
                if show_live:
                    with contextlib.suppress(TimeoutError):  # noted by its absence
                        lives.append(pane.wait_for(live_rows, what="live rows") - pane.started)
            else:
                plain += 1
            pane.stop()
        if not times:
            bench.add(what, "skipped", target, None,
                      f"no '{CACHED}' marker with the first rows in {plain} start(s): the TUI "
                      "does not paint snapshots yet")
            return
        value = statistics.median(times)
        note = f"{value / bench.minimal:.2f}x minimal"
        if lives:
            note += f"; live rows after {statistics.median(lives) * 1000:.0f} ms"
        elif show_live:
            note += "; the live rows never replaced the cached ones within 60 s"
        if plain:
            note += f"; {plain} start(s) showed live rows first"
        bench.add(what, f"{value * 1000:.0f} ms", target, value <= 1.5 * bench.minimal, note)

    def _warm_up(self, argv: list[str], env: dict[str, str], cache: Path) -> bool:
        """One start that reaches live rows; True once a snapshot file exists."""
        pane = self.bench.pane()
        pane.start(argv, env)
        try:
            pane.wait_for(live_rows, what="the live rows")
            deadline = time.perf_counter() + SNAPSHOT_WAIT
            while time.perf_counter() < deadline:
                if any((cache / "snapshots").glob("*.json")):
                    return True
                time.sleep(0.05)
            return False
        finally:
            pane.stop()

    # -- killing the embedded child ------------------------------------------------------

    def after_kill(self, data_dir: Path) -> None:
        """Kill the embedded child (SIGKILL) and time until the rows are live again."""
        what, target = "embedded child killed: rows live again", "<= 2 s"
        times, notes = [], []
        for _ in range(min(3, self.bench.runs)):
            outcome = self._kill_once(data_dir)
            if isinstance(outcome, str):
                notes.append(outcome)
                break
            times.append(outcome)
        if not times:
            self.bench.add(what, "skipped", target, None, notes[0] if notes else "")
            return
        value = statistics.median(times)
        self.bench.add(what, f"{value * 1000:.0f} ms", target, value <= 2.0,
                       f"runs {', '.join(f'{t * 1000:.0f}' for t in times)} ms; SIGKILL to "
                       "rows on screen with no stop, offline or cached marker")

    def _kill_once(self, data_dir: Path) -> float | str:
        """Seconds from the kill to live rows, or why it could not be measured."""
        pane = self.bench.pane()
        pane.start(self.bench.app_argv(data_dir), self.bench.env(cache=self.fresh_cache()))
        try:
            pane.wait_for(live_rows, what="the live rows")
            child = embedded_child(pane)
            if child is None:
                return "no embedded platform child found under the TUI"
            back = PlatformBack(pane, child)
            killed = time.perf_counter()
            os.kill(child, signal.SIGKILL)
            try:
                pane.wait_for(lambda screen: back.check() and troubled(screen), limit=10,
                              what="a sign of the stop")
            except TimeoutError:
                served = "" if back.at is None else (
                    f"; a new child served {(back.at - killed) * 1000:.0f} ms after the kill")
                return ("no sign of the stop on screen within 10 s (none of "
                        f"{', '.join(repr(w) for w in TROUBLE)}): the TUI does not say it yet"
                        + served)
            seen = pane.wait_for(live_rows, limit=30, what="the rows live again")
            if embedded_child(pane) in (None, child):
                return "the rows came back but no new embedded child runs"
            return seen - killed
        finally:
            pane.stop()
