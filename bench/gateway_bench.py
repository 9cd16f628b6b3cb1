"""Benchmark of the gateway: the latency it adds over calling the provider directly, and
its throughput with 8 concurrent clients.

Starts the loopback provider stand-in (``tests/support/fake_provider.py``) and the real local
platform (``LocalServer``) on a temporary data dir, links a configuration, a repository and
an AI API key, then times the same chat completion sent (a) straight to the stand-in and
(b) through ``/v1/chat/completions`` of the gateway, each over one keep-alive connection,
alternating so both see the same machine load. Prints p50/p99 of both and the difference
(target: <= 3 ms added at p50), the same for streamed completions, and requests per second
with 8 concurrent clients, each on its own connection. Also prints the CPU time the
server process spends per gateway call (read from /proc), which unlike wall-clock latency
does not depend on how busy the rest of the machine is, and checks that every gateway call
was counted.

    python bench/gateway_bench.py [--rounds 1000] [--seconds 5] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from flashback_tui.server.runner import LocalServer
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider

BODY = {"model": "fake-gpt-small",
        "messages": [{"role": "user", "content": "How fast is the gateway today?"}]}


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (milliseconds)."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def link(server: LocalServer, endpoint: str) -> tuple[str, str]:
    """Create configuration, repository and key; return (configuration id, key secret)."""
    headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        workspace = api.get("/workspace").json()["workspaces"][0]["id"]
        llm_id = api.post("/ai/llm", json={
            "name": "bench", "aiType": "OPENAI", "endpoint": endpoint,
            "secret": DEFAULT_VALID_KEY, "workspaceId": workspace}).json()["aiLlmId"]
        repo_id = api.post("/repo", json={"name": "bench", "workspaceId": workspace,
                                          "repoAiLlms": [{"aiLlmId": llm_id}]}).json()["repoId"]
        secret = api.post(f"/repo/{repo_id}/ai/apikey",
                          json={"name": "bench", "aiType": "OPENAI"}).json()["secret"]
    return llm_id, secret


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_call(client: httpx.Client, url: str, stream: bool) -> float:
    """Milliseconds for one complete answer (every byte read)."""
    body = {**BODY, "stream": True} if stream else BODY
    start = time.perf_counter()
    if stream:
        with client.stream("POST", url, json=body) as response:
            for _ in response.iter_bytes():
                pass
    else:
        response = client.post(url, json=body)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"unexpected {response.status_code} from {url}")
    return elapsed


def compare(direct: httpx.Client, gateway: httpx.Client, direct_url: str, gateway_url: str,
            rounds: int, stream: bool) -> tuple[list[float], list[float]]:
    """Alternate direct and gateway calls; return both latency lists."""
    for _ in range(50):  # warm up connections, caches and code paths
        one_call(direct, direct_url, stream)
        one_call(gateway, gateway_url, stream)
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(one_call(direct, direct_url, stream))
        b.append(one_call(gateway, gateway_url, stream))
    return a, b


def throughput(url: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    """Requests per second with ``clients`` threads, each on its own keep-alive connection."""
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        with httpx.Client(headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                if client.post(url, json=BODY).status_code != 200:
                    raise SystemExit("a throughput call failed")
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def report(label: str, direct: list[float], gateway: list[float], cpu_ms: float) -> None:
    """Print p50/p99 of both, what the gateway adds, and its CPU per call."""
    d50, d99 = percentile(direct, 0.5), percentile(direct, 0.99)
    g50, g99 = percentile(gateway, 0.5), percentile(gateway, 0.99)
    added = [g - d for d, g in zip(direct, gateway, strict=True)]
    print(f"{label:<10} direct p50 {d50:6.2f} ms  p99 {d99:6.2f} ms | gateway p50 {g50:6.2f} ms"
          f"  p99 {g99:6.2f} ms | added p50 {g50 - d50:5.2f} ms  p99 {g99 - d99:5.2f} ms"
          f"  (paired median {statistics.median(added):5.2f} ms) | server CPU"
          f" {cpu_ms:4.2f} ms/call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    with FakeProvider() as provider, tempfile.TemporaryDirectory() as tmp:
        server = LocalServer(Path(tmp) / "data")
        server.start()
        try:
            llm_id, secret = link(server, provider.endpoint("ok"))
            direct_url = provider.endpoint("ok") + "/chat/completions"
            gateway_url = f"{server.url}/v1/chat/completions"
            direct_headers = {"Authorization": f"Bearer {DEFAULT_VALID_KEY}"}
            gateway_headers = {"Authorization": f"Bearer {secret}"}
            with httpx.Client(headers=direct_headers, timeout=30) as direct, \
                    httpx.Client(headers=gateway_headers, timeout=30) as gateway:
                assert server.pid is not None
                stream_rounds = max(100, args.rounds // 4)
                before = cpu_seconds(server.pid)
                plain = compare(direct, gateway, direct_url, gateway_url, args.rounds, False)
                plain_cpu = (cpu_seconds(server.pid) - before) * 1000 / (args.rounds + 50)
                before = cpu_seconds(server.pid)
                streamed = compare(direct, gateway, direct_url, gateway_url, stream_rounds,
                                   True)
                stream_cpu = (cpu_seconds(server.pid) - before) * 1000 / (stream_rounds + 50)
            load = os.getloadavg()[0]
            print(f"{args.rounds} plain and {stream_rounds} streamed completions,"
                  f" one keep-alive connection each, alternating direct / gateway"
                  f" (load average {load:.1f} on {os.cpu_count()} CPUs):")
            report("plain", *plain, plain_cpu)
            report("streamed", *streamed, stream_cpu)
            direct_rps = throughput(direct_url, direct_headers, args.clients, args.seconds)
            gateway_rps = throughput(gateway_url, gateway_headers, args.clients, args.seconds)
            print(f"throughput, {args.clients} concurrent clients for {args.seconds:g} s:"
                  f" direct {direct_rps:7.0f} req/s | gateway {gateway_rps:7.0f} req/s")
            headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
            stats = httpx.get(f"{server.url}/ai/llm/stats", params={"aiLlmId": llm_id},
                              headers=headers).json()["stats"][0]
            print(f"gateway calls counted: {stats['totalApiCalls']}"
                  f" (llm tokens in {stats['totalLlmTokensIn']},"
                  f" out {stats['totalLlmTokensOut']})")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
