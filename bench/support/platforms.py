"""What the platform benchmarks share: the databases they run on, percentiles, CPU windows.

``--backends sqlite,postgres`` picks the databases (:func:`backend_list`). A platform on
SQLite keeps its database in its data dir; one on PostgreSQL gets a fresh database on the one
server this process starts (``tests/support/postgres.py``: pgserver's binaries on a Unix
socket, fsync and synchronous_commit off as in the tests) and the master key every replica
of it shares. :class:`CpuWindow` reads the CPU time the server processes, the PostgreSQL
server (its postmaster and backends) and this process (clients, provider stand-in) use over
a stretch of a benchmark.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.support

from flashback_tui.server.runner import LocalServer
from support.procfs import cpu_seconds, tree_cpu_seconds
from tests.support import postgres
from tests.support.backends import BACKENDS, POSTGRES, SQLITE


def backend_list(text: str) -> list[str]:
    """``--backends``: a comma-separated list of ``sqlite`` and ``postgres``."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown backend {', '.join(unknown) or '(none given)'}:"
            f" choose from {', '.join(BACKENDS)}")
    return list(dict.fromkeys(names))


def count_list(text: str) -> list[int]:
    """``--replicas``: a comma-separated list of whole numbers from 1 up."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of whole numbers from 1 up")
    return sorted(set(counts))


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (milliseconds)."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def admin_client(server: LocalServer) -> httpx.Client:
    """A keep-alive client of ``server``'s API, signed in as its admin."""
    headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def add_repo(client: httpx.Client, name: str, workspace_id: str, llm_id: str) -> str:
    """Create repository ``name`` linked to configuration ``llm_id``; its id."""
    answer = client.post("/repo", json={"name": name, "workspaceId": workspace_id,
                                        "storageType": "S3", "mode": "NORMAL",
                                        "repoAiLlms": [{"aiLlmId": llm_id}]})
    answer.raise_for_status()
    return answer.json()["repoId"]


def start_server(data_dir: Path, env: dict[str, str]) -> tuple[LocalServer, float]:
    """A started platform on ``data_dir`` and how long its start took (ms)."""
    server = LocalServer(data_dir, env=env)
    started = time.perf_counter()
    server.start()
    assert server.pid is not None
    return server, (time.perf_counter() - started) * 1000


def describe(backends: Sequence[str]) -> str:
    """One line on what each backend is, for the benchmark's header."""
    parts = []
    if SQLITE in backends:
        parts.append("sqlite = SQLite in the data dir (WAL, synchronous NORMAL)")
    if POSTGRES in backends:
        import pgserver

        version = pgserver.postgres(["--version"]).strip().rsplit(" ", 1)[-1]
        parts.append(f"postgres = PostgreSQL {version} from pgserver on a Unix socket"
                     " (fsync off, synchronous_commit off)")
    return "; ".join(parts)


@dataclass
class CpuUse:
    """CPU seconds used over a window, and the window's length."""

    servers: list[float]
    postgres: float
    provider: float
    bench: float
    elapsed: float

    @property
    def cores_busy(self) -> float:
        """How many cores all of it kept busy on average."""
        return (sum(self.servers) + self.postgres + self.provider + self.bench) / self.elapsed

    def __add__(self, other: CpuUse) -> CpuUse:
        return CpuUse([a + b for a, b in zip(self.servers, other.servers, strict=True)],
                      self.postgres + other.postgres, self.provider + other.provider,
                      self.bench + other.bench, self.elapsed + other.elapsed)


class CpuWindow:
    """Reads CPU time at its start and at :meth:`stop`: of the server processes, of the
    PostgreSQL server when asked, of a provider stand-in's process when given, and of this
    process."""

    def __init__(self, server_pids: Sequence[int], *, with_postgres: bool,
                 provider_pid: int | None = None) -> None:
        self.server_pids = list(server_pids)
        self.postgres_pid = postgres.server_pid() if with_postgres else None
        self.provider_pid = provider_pid
        self._start = self._read()

    def _read(self) -> CpuUse:
        return CpuUse([cpu_seconds(pid) for pid in self.server_pids],
                      tree_cpu_seconds(self.postgres_pid) if self.postgres_pid else 0.0,
                      cpu_seconds(self.provider_pid) if self.provider_pid else 0.0,
                      time.process_time(), time.perf_counter())

    def stop(self) -> CpuUse:
        """What was used since the window opened."""
        end, start = self._read(), self._start
        return CpuUse([b - a for a, b in zip(start.servers, end.servers, strict=True)],
                      end.postgres - start.postgres, end.provider - start.provider,
                      end.bench - start.bench, end.elapsed - start.elapsed)


def load_line() -> str:
    """The machine's load averages, as ``uptime`` shows them."""
    one, five, fifteen = os.getloadavg()
    return (f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs")
