"""Benchmark of the local platform over loopback: latency of the main calls and peak RSS.

Starts the real server (``LocalServer``) on a temporary data dir, seeds 1,000 configurations
(with sealed secrets, some linked to repositories, some with usage), then times sequential
requests over one keep-alive connection and prints p50/p99 per call and the server's peak
resident memory (VmHWM). Repeated lists of unchanged data are served from the server's
answer cache; "(cold)" times a list right after a write, when it must be rebuilt.
Targets on a 2-core machine: list p50 <= 25 ms, create p50 <= 10
ms, peak RSS <= 120 MB.

    python bench/server_bench.py [--configs 1000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import usage as usage_store


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (milliseconds)."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def timed(rounds: int, call: Callable[[int], httpx.Response]) -> list[float]:
    """Run ``call`` ``rounds`` times; return each duration in ms (every answer must be 200)."""
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        response = call(i)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
    return samples


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """Server CPU per request over a batch: a figure that other load on the host barely moves."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.per_request: dict[str, float] = {}

    def measure(self, name: str, samples: Callable[[], list[float]]) -> list[float]:
        before = cpu_ms(self.pid)
        result = samples()
        self.per_request[name] = (cpu_ms(self.pid) - before) / len(result)
        return result


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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


def seed(client: httpx.Client, data_dir: Path, workspace_id: str, count: int) -> list[str]:
    """Create ``count`` configurations over HTTP; link every 10th to a repo; add usage."""
    ids = []
    for n in range(count):
        answer = client.post("/ai/llm", json=create_body(workspace_id, n))
        answer.raise_for_status()
        ids.append(answer.json()["aiLlmId"])
    for n, llm_id in enumerate(ids[::10]):
        admin.add_repo(data_dir, f"repo-{n}", workspace_id, llm_id)
    with PlatformState.open(data_dir) as state:
        for llm_id in ids[::5]:
            usage_store.record_usage(state.db.conn(), llm_id, api_calls=3, tokens_in=120,
                               tokens_out=480, latency_ms=350.0)
    return ids


def secure_delete_cost(rounds: int) -> dict[str, list[float]]:
    """POST then DELETE of a configuration, with secure deletion on and off (own servers)."""
    results: dict[str, list[float]] = {}
    for label, value in (("secure delete on", "1"), ("secure delete off", "0")):
        with tempfile.TemporaryDirectory(prefix="flashback-bench-") as tmp, LocalServer(
            Path(tmp) / "data", env={"FLASHBACK_SECURE_DELETE": value}
        ) as server:
            headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                workspace_id = client.get("/workspace").json()["workspaces"][0]["id"]
                for n in range(50):  # some rows around, as in a real data dir
                    client.post("/ai/llm", json=create_body(workspace_id, n)).raise_for_status()

                def create_then_delete(i: int, client: httpx.Client = client,
                                       workspace_id: str = workspace_id) -> httpx.Response:
                    made = client.post("/ai/llm", json=create_body(workspace_id, 1000 + i))
                    return client.delete(f"/ai/llm/{made.json()['aiLlmId']}")

                timed(10, create_then_delete)  # warm up
                results[f"POST+DELETE ({label})"] = timed(rounds, create_then_delete)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="flashback-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        with LocalServer(data_dir) as server:
            startup_ms = (time.perf_counter() - started) * 1000
            assert server.pid is not None
            headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                workspace_id = client.get("/workspace").json()["workspaces"][0]["id"]
                seed_start = time.perf_counter()
                ids = seed(client, data_dir, workspace_id, args.configs)
                seed_s = time.perf_counter() - seed_start
                listed = client.get("/ai/llm").json()["aiLlms"]
                assert len(listed) == args.configs, len(listed)

                for _ in range(10):  # warm up
                    client.get("/ai/llm")
                def cold_lists() -> list[float]:
                    cold: list[float] = []
                    for i in range(max(20, args.rounds // 4)):
                        # A write in between: the list must be rebuilt, not served from cache.
                        client.put(f"/ai/llm/{ids[i]}", json={"name": f"renamed-{i}"})
                        cold += timed(1, lambda i: client.get("/ai/llm"))
                    return cold

                cpu = ServerCpu(server.pid)
                results = {
                    "GET /ai/llm": cpu.measure("GET /ai/llm", lambda: timed(
                        args.rounds, lambda i: client.get("/ai/llm"))),
                    "GET /ai/llm (cold)": cpu.measure("GET /ai/llm (cold)", cold_lists),
                    "POST /ai/llm": cpu.measure("POST /ai/llm", lambda: timed(
                        args.rounds, lambda i: client.post(
                            "/ai/llm", json=create_body(workspace_id, args.configs + i)))),
                    "GET /ai/llm/stats": cpu.measure("GET /ai/llm/stats", lambda: timed(
                        args.rounds, lambda i: client.get("/ai/llm/stats"))),
                }
            rss = peak_rss_mb(server.pid)
        results.update(secure_delete_cost(args.rounds))

    print(f"local platform, {args.configs} configurations seeded in {seed_s:.1f} s "
          f"(server start {startup_ms:.0f} ms), {args.rounds} sequential requests each")
    print(f"{'call':<34}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'server CPU ms':>15}")
    for name, samples in results.items():
        server_cpu = cpu.per_request.get(name)
        cpu_text = f"{server_cpu:>15.2f}" if server_cpu is not None else f"{'-':>15}"
        print(f"{name:<34}{percentile(samples, 0.5):>10.2f}{percentile(samples, 0.99):>10.2f}"
              f"{statistics.fmean(samples):>10.2f}{cpu_text}")
    print("(cold: the list after a write, rebuilt; its CPU figure includes that PUT)")
    print(f"server peak RSS (VmHWM): {rss:.1f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
