"""TUI benchmark: start-up, big lists, filtering, memory, idle CPU, background validation,
and sessions (rows from the last-known list, a distant platform, a killed embedded child).

Everything is measured from outside the app, the way a user sees it: the app runs in a tmux
pane and the pane is polled (``tmux capture-pane``) until the expected text is on screen.
Each start-up figure is printed beside a minimal Textual app measured in the same run.
Data dirs are seeded directly through the local platform's store functions (fast), and the
AI provider is the loopback stand-in of the tests (``/slow/50/v1``: answers in 50 ms).

    python bench/tui_bench.py            # a few minutes; prints a table of figures vs targets
    python bench/tui_bench.py --runs 1   # quicker, noisier

Targets come from the project's performance goals. CPU figures count the TUI process and,
separately, the TUI plus its embedded server child. Each app start gets a cache directory of
its own (no last-known list) unless a figure is about that list (``support/session_figures``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from support.pane import HEIGHT, WIDTH, Pane, idle_cpu
from support.procfs import cpu_seconds, process_tree, rss_bytes
from support.provider import provider_process
from support.session_figures import SessionFigures

BENCH_KEY = "sk-bench-key"

MINIMAL_APP = '''
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")


Minimal().run()
'''

SETTINGS = '''default_profile = "bench"

[profiles.bench]
validation_concurrency = 16
refresh_interval = 2.0
'''


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def seed(data_dir: Path, names: list[str], endpoint: str, secret: str = BENCH_KEY) -> None:
    """Create configurations in workspace Default of a fresh data dir."""
    from pydantic import SecretStr

    from flashback_tui.api.models import AiType
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import ai_llms as llm_store
    from flashback_tui.server.store import workspaces as workspace_store

    types = list(AiType)
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        workspace_id = workspace_store.find_workspace(conn, "Default")["id"]
        for index, name in enumerate(names):
            ai_type = types[index % len(types)] if endpoint.startswith("https") else AiType.OTHER
            llm_store.create_ai_llm(conn, state.keyring, workspace_id=workspace_id, user_id=None,
                                name=name, ai_type=ai_type, endpoint=endpoint,
                                secret=SecretStr(secret))


def count_valid(data_dir: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(data_dir / "flashback.db")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(ai_llms)")}
        if "validation_status" not in columns:
            return -1
        return conn.execute("SELECT COUNT(*) FROM ai_llms WHERE validation_status = 'VALID'"
                            ).fetchone()[0]
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the report."""

    what: str
    value: str
    target: str
    ok: bool | None
    note: str = ""


@dataclass
class ValidationRun:
    """The figures of one bulk validation run."""

    wall: float
    worst_stall: float
    median_stall: float
    probes: int
    idle_probe: float
    app_cpu: float
    server_cpu: float
    valid: int


@dataclass
class Bench:
    """The whole run: a tmux server, a temporary directory, the figures."""

    runs: int
    workdir: Path
    server: str = field(default_factory=lambda: f"fbbench-{os.getpid()}")
    rows: list[Row] = field(default_factory=list)
    counter: int = 0
    minimal: float = 0.0

    def pane(self) -> Pane:
        self.counter += 1
        return Pane(self.server, f"p{self.counter}")

    def env(self, cache: Path | None = None) -> dict[str, str]:
        """The app's environment; ``cache`` None: a cache dir of this start's own (empty)."""
        cache = cache or self.workdir / f"cache-{self.counter}"
        return {"FLASHBACK_CONFIG_DIR": str(self.workdir / "config"), "TERM": "xterm-256color",
                "COLORTERM": "truecolor", "FLASHBACK_PROBE_TIMEOUT": "10",
                "FLASHBACK_CACHE_DIR": str(cache)}

    def app_argv(self, data_dir: Path) -> list[str]:
        script = Path(sys.executable).parent / "flashback-tui"
        base = [str(script)] if script.exists() else [sys.executable, "-m", "flashback_tui"]
        return [*base, "--data-dir", str(data_dir)]

    def add(self, what: str, value: str, target: str, ok: bool | None, note: str = "") -> None:
        self.rows.append(Row(what, value, target, ok, note))
        mark = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"  {what}: {value} (target {target}) {mark} {note}".rstrip(), flush=True)

    # -- start-up ----------------------------------------------------------------------------

    def minimal_start(self) -> float:
        script = self.workdir / "minimal_app.py"
        script.write_text(MINIMAL_APP)
        times = []
        for _ in range(self.runs):
            pane = self.pane()
            pane.start([sys.executable, str(script)], self.env())
            seen = pane.wait_for(lambda s: "minimal app ready" in s, what="minimal app")
            times.append(seen - pane.started)
            pane.stop()
        return statistics.median(times)

    def list_start(self, data_dir: Path, row_pattern: str, keep: bool = False
                   ) -> tuple[float, float, Pane | None]:
        """Median (frame time, rows time) over the runs; the last pane kept if asked."""
        frames, rows = [], []
        pane = None
        for run in range(self.runs):
            pane = self.pane()
            pane.start(self.app_argv(data_dir), self.env())
            frame = pane.wait_for(lambda s: "Endpoint" in s and "Status" in s,
                                  what="the list frame")
            seen = pane.wait_for(lambda s: re.search(row_pattern, s) is not None,
                                 what="the first rows")
            frames.append(frame - pane.started)
            rows.append(seen - pane.started)
            if not (keep and run == self.runs - 1):
                pane.stop()
        return statistics.median(frames), statistics.median(rows), pane if keep else None

    # -- scenarios ---------------------------------------------------------------------------

    def startup_and_idle(self, minimal: float) -> None:
        frame, rows, pane = self.list_start(self.d100(), r"cfg-\d{3}", keep=True)
        assert pane is not None
        self.add("list frame on screen", f"{frame * 1000:.0f} ms", "<= 1.5x minimal",
                 frame <= 1.5 * minimal, f"{frame / minimal:.2f}x minimal")
        self.add("first rows of 100 configs", f"{rows * 1000:.0f} ms", "<= 2x minimal",
                 rows <= 2 * minimal, f"{rows / minimal:.2f}x minimal; "
                 f"{(rows - frame) * 1000:.0f} ms after the frame")
        self.add("first live rows of 100 configs, no snapshot", f"{rows * 1000:.0f} ms",
                 "<= 3x minimal", rows <= 3 * minimal,
                 f"{rows / minimal:.2f}x minimal; the same starts, each with an empty cache")
        time.sleep(2)
        app_cpu, total_cpu = idle_cpu(pane, 10)
        self.add("idle CPU, list (100)", f"{app_cpu:.2f} %", "<= 1 %", app_cpu <= 1,
                 f"with server child {total_cpu:.2f} %")
        pane.send("s")
        pane.wait_for(lambda s: "Live, every 2 s" in s and "updated" in s, what="dashboard")
        time.sleep(3)
        app_cpu, total_cpu = idle_cpu(pane, 12)
        self.add("idle CPU, dashboard every 2 s", f"{app_cpu:.2f} %", "<= 3 %", app_cpu <= 3,
                 f"with server child {total_cpu:.2f} %")
        pane.stop()

    def d100(self) -> Path:
        """The data dir of 100 configurations (seeded on first use)."""
        data_dir = self.workdir / "d100"
        if not data_dir.exists():
            seed(data_dir, [f"cfg-{i:03d}" for i in range(100)], "https://api.example.com/v1")
        return data_dir

    def sessions(self) -> None:
        figures = SessionFigures(self)
        figures.from_snapshot(self.d100())
        figures.through_proxy(self.d100())
        figures.after_kill(self.d100())

    def big_list(self) -> None:
        data_dir = self.workdir / "d10k"
        # The list shows the newest first: the oldest one, "quartz-special", is off screen
        # until a filter brings it up. No other name, provider or endpoint contains a "q".
        names = ["quartz-special"] + [f"cfg-{i:05d}" for i in range(1, 10_000)]
        seed(data_dir, names, "https://api.example.com/v1")
        frame, rows, pane = self.list_start(data_dir, r"cfg-\d{5}", keep=True)
        assert pane is not None
        self.add("10,000 configs: rows on screen", f"{rows * 1000:.0f} ms", "<= 1200 ms",
                 rows <= 1.2, f"{(rows - frame) * 1000:.0f} ms after the frame; minimal app "
                 f"{self.minimal * 1000:.0f} ms")
        time.sleep(1)
        rss = sum(rss_bytes(pid) for pid in process_tree(pane.pid()))
        app_rss = rss_bytes(pane.pid())
        self.add("10,000 configs: RSS (TUI + server)", f"{rss / 2**20:.0f} MB", "<= 200 MB",
                 rss <= 200 * 2**20, f"TUI alone {app_rss / 2**20:.0f} MB")
        app_cpu, total_cpu = idle_cpu(pane, 6)
        self.add("idle CPU, list (10,000)", f"{app_cpu:.2f} %", "<= 1 %", app_cpu <= 1,
                 f"with server child {total_cpu:.2f} %")
        pane.send("/")
        pane.wait_for(lambda s: "Filter by name" in s, what="the filter box")
        latencies = []
        for _ in range(max(3, self.runs)):
            sent = pane.send("q")
            seen = pane.wait_for(lambda s: "quartz-special" in s and "cfg-09999" not in s,
                                 what="the filtered rows")
            latencies.append(seen - sent)
            sent = pane.send("BSpace")
            seen = pane.wait_for(lambda s: "cfg-09999" in s, what="the unfiltered rows")
            latencies.append(seen - sent)
        worst = max(latencies)
        self.add("10,000 configs: filter keystroke to repaint",
                 f"{statistics.median(latencies) * 1000:.0f} ms", "<= 100 ms",
                 worst <= 0.1, f"worst {worst * 1000:.0f} ms over {len(latencies)} keys")
        pane.send("Escape")
        pane.wait_for(lambda s: "Filter by name" not in s, what="the filter to close")
        pane.send("s")
        pane.wait_for(lambda s: "Live, every 2 s" in s and "10000 configurations" in s,
                      what="the dashboard of 10,000 configurations")
        time.sleep(4)
        app_cpu, total_cpu = idle_cpu(pane, 12)
        self.add("idle CPU, dashboard of 10,000 every 2 s", f"{app_cpu:.2f} %", "<= 3 %",
                 app_cpu <= 3, f"with server child {total_cpu:.2f} %")
        pane.stop()

    def validation(self) -> None:
        """Validate 1,000 configurations (``V``) ``runs`` times; the median run is reported."""
        results: list[ValidationRun] = []
        with provider_process("slow", 50, valid_key=BENCH_KEY) as provider:
            endpoint = provider.endpoint
            for run in range(self.runs):
                result = self._validate_all(self.workdir / f"dval{run}", endpoint)
                print(f"  run {run + 1}: {result.wall:.2f} s, longest stall "
                      f"{result.worst_stall * 1000:.0f} ms", flush=True)
                results.append(result)
        ideal = 1000 * 0.05 / 16
        walls = sorted(r.wall for r in results)
        median = sorted(results, key=lambda r: r.wall)[len(results) // 2]
        self.add("validate 1,000 at concurrency 16: wall", f"{median.wall:.2f} s",
                 f"<= {1.3 * ideal:.2f} s (1.3x ideal {ideal:.3f} s)", median.wall <= 1.3 * ideal,
                 f"{median.wall / ideal:.2f}x ideal; runs {', '.join(f'{w:.2f}' for w in walls)}"
                 f" s; {median.valid} of 1000 valid; CPU meanwhile: TUI {median.app_cpu:.1f} s,"
                 f" server {median.server_cpu:.1f} s")
        stalls = sorted(r.worst_stall for r in results)
        worst = statistics.median(stalls)
        each = ", ".join(f"{x * 1000:.0f}" for x in stalls)
        self.add("validate 1,000: longest UI stall", f"{worst * 1000:.0f} ms", "<= 100 ms",
                 worst <= 0.1, f"median of the runs' longest ({each} ms);"
                 f" {median.probes} key probes, median {median.median_stall * 1000:.0f} ms;"
                 f" idle probe {median.idle_probe * 1000:.0f} ms")

    def _validate_all(self, data_dir: Path, endpoint: str) -> ValidationRun:
        """One run: open the list, press V, probe the UI with Down until it is done."""
        seed(data_dir, [f"val-{i:04d}" for i in range(1000)], endpoint)
        pane = self.pane()
        pane.start(self.app_argv(data_dir), self.env())
        pane.wait_for(lambda s: re.search(r"val-\d{4}", s) is not None, what="rows")
        time.sleep(1)
        baseline = [self._probe(pane) for _ in range(5)]
        app_pid = pane.pid()
        tree = process_tree(app_pid)
        cpu_before = {pid: cpu_seconds(pid) for pid in tree}
        sent = pane.send("V")
        pane.wait_for(lambda s: "Validating" in s, what="validation to start")
        stalls = []
        done_at = None
        while done_at is None:
            time.sleep(0.05)
            latency, screen, at = self._probe(pane, with_screen=True)
            stalls.append(latency)
            if "Validating" not in screen:
                done_at = at
            if time.perf_counter() - sent > 120:
                raise TimeoutError("validation did not finish in 120 s")
        cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in tree}
        app_cpu = cpu.pop(app_pid)
        valid = count_valid(data_dir)
        pane.stop()
        return ValidationRun(wall=done_at - sent, worst_stall=max(stalls),
                             median_stall=statistics.median(stalls), probes=len(stalls),
                             idle_probe=statistics.median(baseline), app_cpu=app_cpu,
                             server_cpu=sum(cpu.values()), valid=valid)

    @staticmethod
    def _probe(pane: Pane, with_screen: bool = False):
        """Press Down and time until the detail line names another configuration."""
        def current(screen: str) -> str | None:
            found = re.findall(r"(val-\d{4}): ", screen)
            return found[-1] if found else None

        before = current(pane.text())
        sent = pane.send("Down")
        box: dict[str, str] = {}

        def moved(screen: str) -> bool:
            box["screen"] = screen
            now = current(screen)
            return now is not None and now != before

        seen = pane.wait_for(moved, limit=30, what="the cursor to move")
        if with_screen:
            return seen - sent, box["screen"], seen
        return seen - sent

    # -- report ------------------------------------------------------------------------------

    def report(self, minimal: float) -> None:
        print()
        print(f"flashback-tui TUI benchmark ({WIDTH}x{HEIGHT} tmux pane, {self.runs} run(s) "
              f"per start-up figure, median; {os.cpu_count()} CPUs, load "
              f"{os.getloadavg()[0]:.1f})")
        print(f"minimal Textual app, first text on screen: {minimal * 1000:.0f} ms")
        width = max(len(r.what) for r in self.rows)
        vwidth = max(len(r.value) for r in self.rows)
        twidth = max(len(r.target) for r in self.rows)
        for r in self.rows:
            mark = "  " if r.ok is None else ("ok" if r.ok else "MISSED")
            print(f"  {r.what:<{width}}  {r.value:>{vwidth}}  {r.target:<{twidth}}  "
                  f"{mark:<6}  {r.note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per start-up and validation figure (median reported)")
    parser.add_argument("--only", choices=["startup", "sessions", "big", "validation"],
                        action="append", help="run only these parts (default: all)")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is required (apt-get install tmux)", file=sys.stderr)
        return 2
    parts = args.only or ["startup", "sessions", "big", "validation"]
    workdir = Path(tempfile.mkdtemp(prefix="flashback-tui-bench-"))
    (workdir / "config").mkdir()
    (workdir / "config" / "settings.toml").write_text(SETTINGS)
    bench = Bench(runs=max(1, args.runs), workdir=workdir)
    # A session that lives for the whole run keeps the private tmux server up between panes.
    subprocess.run(["tmux", "-L", bench.server, "new-session", "-d", "-s", "keep", "--",
                    "sleep", "86400"], check=True)
    try:
        print("minimal Textual app…", flush=True)
        minimal = bench.minimal = bench.minimal_start()
        print(f"  first text: {minimal * 1000:.0f} ms", flush=True)
        if "startup" in parts:
            print("100 configurations: start-up, idle list, idle dashboard…", flush=True)
            bench.startup_and_idle(minimal)
        if "sessions" in parts:
            print("sessions: snapshot, a platform 200 ms away, a killed embedded child…",
                  flush=True)
            bench.sessions()
        if "big" in parts:
            print("10,000 configurations: rows, memory, filter…", flush=True)
            bench.big_list()
        if "validation" in parts:
            print("validating 1,000 configurations against a 50 ms provider…", flush=True)
            bench.validation()
        bench.report(minimal)
    finally:
        subprocess.run(["tmux", "-L", bench.server, "kill-server"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
