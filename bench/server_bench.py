"""Benchmark of the local platform over loopback: latency of the main calls and peak RSS.

Starts the real server (``LocalServer``) on a temporary data dir for each backend (SQLite,
and PostgreSQL from pgserver), seeds 1,000 configurations in each (with sealed secrets, some
linked to repositories, some with usage), then times sequential requests over one keep-alive
connection per server, alternating between the backends request by request so both see the
same machine load, and prints p50/p99 per call and backend, the server's CPU per request (and
the PostgreSQL server's), and each server's peak resident memory (VmHWM). Repeated lists of
unchanged data are served from the server's answer cache; "(cold)" times a list right after
a write, when it must be rebuilt. Targets on a 2-core machine: list p50 <= 25 ms, create p50
<= 10 ms, peak RSS <= 120 MB.

    python bench/server_bench.py [--configs 1000] [--rounds 200] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from support.platforms import (
    CpuWindow,
    add_repo,
    admin_client,
    backend_list,
    describe,
    load_line,
    percentile,
    start_server,
)
from support.procfs import peak_rss_mb

from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import usage as usage_store
from tests.support.backends import BACKENDS, POSTGRES, SQLITE, backend_env


@dataclass
class Platform:
    """One benchmarked server: its backend, the variant it stands for, and its client."""

    backend: str
    label: str
    server: LocalServer
    client: httpx.Client
    env: dict[str, str]
    startup_ms: float
    workspace_id: str = ""
    ids: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.server.pid is not None
        return self.server.pid


@dataclass
class Row:
    """The figures of one call on one platform."""

    samples: list[float]
    server_cpu_ms: float
    postgres_cpu_ms: float | None


@contextlib.contextmanager
def platform(data_dir: Path, backend: str, label: str = "",
             extra_env: dict[str, str] | None = None) -> Iterator[Platform]:
    """A started server for ``backend`` and a client of it; both closed on leaving."""
    env = {**backend_env(backend), **(extra_env or {})}
    server, startup_ms = start_server(data_dir, env)
    try:
        with admin_client(server) as client:
            workspace_id = client.get("/workspace").json()["workspaces"][0]["id"]
            yield Platform(backend, label or backend, server, client, env, startup_ms,
                           workspace_id)
    finally:
        server.stop()


def create_body(workspace_id: str, n: int) -> dict[str, object]:
    """A realistic create body with a key and a secret."""
    return {
        "name": f"config-{n:05d}-{uuid.uuid4().hex[:6]}",
        "aiType": "OPENAI" if n % 3 else "ANTHROPIC",
        "endpoint": f"https://llm-{n % 17}.example.test/v1",
        "key": f"key-{uuid.uuid4().hex}",
        "secret": f"sk-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "workspaceId": workspace_id,
    }


def seed(target: Platform, count: int) -> float:
    """Create ``count`` configurations over HTTP; link every 10th to a repo; add usage.

    Returns the seconds it took.
    """
    started = time.perf_counter()
    client = target.client
    for n in range(count):
        answer = client.post("/ai/llm", json=create_body(target.workspace_id, n))
        answer.raise_for_status()
        target.ids.append(answer.json()["aiLlmId"])
    for n, llm_id in enumerate(target.ids[::10]):
        add_repo(client, f"repo-{n}", target.workspace_id, llm_id)
    with PlatformState.open(target.server.data_dir, env={**os.environ, **target.env}) as state:
        for llm_id in target.ids[::5]:
            usage_store.record_usage(state.db.conn(), llm_id, api_calls=3, tokens_in=120,
                                     tokens_out=480, latency_ms=350.0)
    return time.perf_counter() - started


Call = Callable[[Platform, int], httpx.Response]


def timed(platforms: list[Platform], rounds: int, call: Call) -> dict[str, list[float]]:
    """Run ``call`` ``rounds`` times on each platform in turn; each duration in ms by label.

    Every answer must be 200.
    """
    samples: dict[str, list[float]] = {target.label: [] for target in platforms}
    for i in range(rounds):
        for target in platforms:
            start = time.perf_counter()
            response = call(target, i)
            samples[target.label].append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code} from {target.label}:"
                                 f" {response.text[:200]}")
    return samples


class Results:
    """Rows by call and platform label, each with its server's CPU per request."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}

    def measure(self, platforms: list[Platform], run: Callable[[], dict[str, list[float]]],
                name: str = "") -> None:
        """Run ``run`` (interleaved over ``platforms``) and keep its rows with their CPU.

        The rows are named ``name``, or each after its platform's label.
        """
        on_postgres = any(target.backend == POSTGRES for target in platforms)
        window = CpuWindow([target.pid for target in platforms], with_postgres=on_postgres)
        samples = run()
        used = window.stop()
        for target, server_s in zip(platforms, used.servers, strict=True):
            count = len(samples[target.label])
            database = used.postgres * 1000 / count if target.backend == POSTGRES else None
            self.rows[(name or target.label, target.backend)] = Row(
                samples[target.label], server_s * 1000 / count, database)

    def print(self) -> None:
        print(f"{'call':<34}{'backend':<10}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}"
              f"{'server CPU ms':>15}{'postgres CPU ms':>17}")
        for (name, backend), row in self.rows.items():
            database = "-" if row.postgres_cpu_ms is None else f"{row.postgres_cpu_ms:.2f}"
            print(f"{name:<34}{backend:<10}{percentile(row.samples, 0.5):>10.2f}"
                  f"{percentile(row.samples, 0.99):>10.2f}{statistics.fmean(row.samples):>10.2f}"
                  f"{row.server_cpu_ms:>15.2f}{database:>17}")


def main_calls(results: Results, platforms: list[Platform], configs: int,
               rounds: int) -> None:
    """The list, cold list, create and stats figures, alternating over ``platforms``."""
    timed(platforms, 10, lambda target, i: target.client.get("/ai/llm"))  # warm up

    def cold_list(target: Platform, i: int) -> httpx.Response:
        # A write in between: the list must be rebuilt, not served from cache.
        target.client.put(f"/ai/llm/{target.ids[i]}", json={"name": f"renamed-{i}"})
        return target.client.get("/ai/llm")

    def create(target: Platform, i: int) -> httpx.Response:
        return target.client.post("/ai/llm", json=create_body(target.workspace_id, configs + i))

    cold_rounds = max(20, rounds // 4)
    results.measure(platforms, lambda: timed(
        platforms, rounds, lambda target, i: target.client.get("/ai/llm")), "GET /ai/llm")
    results.measure(platforms, lambda: timed(platforms, cold_rounds, cold_list),
                    "GET /ai/llm (cold)")
    results.measure(platforms, lambda: timed(platforms, rounds, create), "POST /ai/llm")
    results.measure(platforms, lambda: timed(
        platforms, rounds, lambda target, i: target.client.get("/ai/llm/stats")),
        "GET /ai/llm/stats")


def create_then_delete(target: Platform, i: int) -> httpx.Response:
    """POST a configuration, then DELETE it; the DELETE's answer."""
    made = target.client.post("/ai/llm", json=create_body(target.workspace_id, 1000 + i))
    return target.client.delete(f"/ai/llm/{made.json()['aiLlmId']}")


def delete_cost(results: Results, tmp: Path, backends: list[str], rounds: int) -> None:
    """POST then DELETE of a configuration: SQLite with secure deletion on and off, and
    PostgreSQL (which has no such switch), each on a server of its own, alternating."""
    variants: list[tuple[str, str, dict[str, str]]] = []  # backend, call name, environment
    if SQLITE in backends:
        variants += [(SQLITE, f"POST+DELETE (secure delete {switch})",
                      {"FLASHBACK_SECURE_DELETE": value}) for switch, value in
                     (("on", "1"), ("off", "0"))]
    if POSTGRES in backends:
        variants.append((POSTGRES, "POST+DELETE", {}))
    with contextlib.ExitStack() as stack:
        platforms = [stack.enter_context(platform(tmp / f"delete-{n}", backend, name, env))
                     for n, (backend, name, env) in enumerate(variants)]
        for target in platforms:
            for n in range(50):  # some rows around, as in a real data dir
                target.client.post("/ai/llm", json=create_body(target.workspace_id, n)
                                   ).raise_for_status()
        timed(platforms, 10, create_then_delete)  # warm up
        results.measure(platforms, lambda: timed(platforms, rounds, create_then_delete))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--backends", type=backend_list, default=list(BACKENDS),
                        help="comma-separated: sqlite, postgres (default: both)")
    args = parser.parse_args()

    results = Results()
    with tempfile.TemporaryDirectory(prefix="flashback-bench-") as tmp:
        with contextlib.ExitStack() as stack:
            platforms = [stack.enter_context(platform(Path(tmp) / backend, backend))
                         for backend in args.backends]
            seed_s = {target.label: seed(target, args.configs) for target in platforms}
            for target in platforms:
                listed = target.client.get("/ai/llm").json()["aiLlms"]
                assert len(listed) == args.configs, (target.label, len(listed))
            main_calls(results, platforms, args.configs, args.rounds)
            rss = {target.label: peak_rss_mb(target.pid) for target in platforms}
            startup = {target.label: target.startup_ms for target in platforms}
        delete_cost(results, Path(tmp), args.backends, args.rounds)

    turns = ", alternating backends" if len(platforms) > 1 else ""
    print(f"local platform, {args.configs} configurations seeded: "
          + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in seed_s.items())
          + "; server start: " + ", ".join(f"{label} {ms:.0f} ms" for label, ms in
                                           startup.items())
          + f"; {args.rounds} sequential requests each{turns}")
    print(f"{describe(args.backends)}; {load_line()} at the end")
    results.print()
    print("(cold: the list after a write, rebuilt; its CPU figures include that PUT;"
          " postgres CPU: its postmaster and backends)")
    print("server peak RSS (VmHWM): "
          + ", ".join(f"{label} {mb:.1f} MB" for label, mb in rss.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
