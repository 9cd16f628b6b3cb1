"""Benchmark of the gateway: the latency it adds over calling the provider directly, and
its throughput with 8 concurrent clients, on SQLite and on PostgreSQL with 1 and 3 replicas.

Starts the loopback provider stand-in (``tests/support/fake_provider.py``, in a process of its
own) and the real local platform (``LocalServer``) on a temporary data dir for each backend:
one server on SQLite, and on PostgreSQL (from pgserver) as many replicas as ``--replicas``
asks for at most, each with its own data dir and port, all on one database with one master
key. It links a configuration, a repository and an AI API key, then times the same chat
completion sent (a) straight to the stand-in and (b) through ``/v1/chat/completions`` of each
backend's gateway, each over one keep-alive connection, in turn so all see the same machine
load. Prints p50/p99 of each and the difference (target: <= 3 ms added at p50), the same for
streamed completions, and requests per second with 8 concurrent clients, each on its own
keep-alive connection (spread round-robin over the replicas), directly and through each
gateway, in one-second slices taken in turn. Also prints the CPU time the server processes
spend per gateway call (read from /proc), which unlike wall-clock latency does not depend on
how busy the rest of the machine is, the PostgreSQL server's (postmaster and backends), the
provider stand-in's and this process's (the clients), and checks that every gateway call was
counted.

    python bench/gateway_bench.py [--rounds 1000] [--seconds 5] [--clients 8]
                                  [--backends sqlite,postgres] [--replicas 1,3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from support.platforms import (
    CpuUse,
    CpuWindow,
    add_repo,
    admin_client,
    backend_list,
    count_list,
    describe,
    load_line,
    percentile,
    start_server,
)
from support.provider import ProviderProcess, provider_process

from flashback_tui.server.runner import LocalServer
from tests.support.backends import BACKENDS, POSTGRES, backend_env
from tests.support.fake_provider import DEFAULT_VALID_KEY

BODY = {"model": "fake-gpt-small",
        "messages": [{"role": "user", "content": "How fast is the gateway today?"}]}
DIRECT_HEADERS = {"Authorization": f"Bearer {DEFAULT_VALID_KEY}"}
#: Calls of each kind sent before the timed ones (connections, caches, code paths).
WARM_UP = 50
#: Length of one throughput slice (seconds); the configurations take slices in turn.
SLICE = 1.0


@dataclass
class Gateway:
    """The servers of one backend, on one database, and what the benchmark linked there."""

    backend: str
    servers: list[LocalServer]
    llm_id: str
    secret: str
    calls: int = 0  # gateway calls sent, all answered 200

    @property
    def url(self) -> str:
        """The first replica's chat completions URL."""
        return f"{self.servers[0].url}/v1/chat/completions"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def pids(self, replicas: int | None = None) -> list[int]:
        """The pids of the first ``replicas`` servers (all by default)."""
        return [server.pid for server in self.servers[:replicas] if server.pid is not None]


def link(server: LocalServer, endpoint: str) -> tuple[str, str]:
    """Create configuration, repository and key; return (configuration id, key secret)."""
    with admin_client(server) as api:
        workspace = api.get("/workspace").json()["workspaces"][0]["id"]
        llm_id = api.post("/ai/llm", json={
            "name": "bench", "aiType": "OPENAI", "endpoint": endpoint,
            "secret": DEFAULT_VALID_KEY, "workspaceId": workspace}).json()["aiLlmId"]
        repo_id = add_repo(api, "bench", workspace, llm_id)
        secret = api.post(f"/repo/{repo_id}/ai/apikey",
                          json={"name": "bench", "aiType": "OPENAI"}).json()["secret"]
    return llm_id, secret


@contextlib.contextmanager
def gateway(tmp: Path, backend: str, replicas: int, endpoint: str) -> Iterator[Gateway]:
    """``replicas`` started servers of ``backend`` sharing one database, linked once."""
    env = backend_env(backend)
    servers: list[LocalServer] = []
    try:
        for n in range(replicas):
            servers.append(start_server(tmp / f"{backend}-{n}", env)[0])
        yield Gateway(backend, servers, *link(servers[0], endpoint))
    finally:
        for server in servers:
            server.stop()


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


def compare(provider: ProviderProcess, gateways: list[Gateway], rounds: int, stream: bool
            ) -> tuple[list[float], list[list[float]], CpuUse]:
    """Call direct, then each gateway, in turn; their latency lists and the CPU it took."""
    with contextlib.ExitStack() as stack:
        direct = stack.enter_context(httpx.Client(headers=DIRECT_HEADERS, timeout=30))
        clients = [stack.enter_context(httpx.Client(headers=g.headers, timeout=30))
                   for g in gateways]
        window = CpuWindow([g.pids(1)[0] for g in gateways],
                           with_postgres=any(g.backend == POSTGRES for g in gateways),
                           provider_pid=provider.pid)
        direct_url = provider.endpoint + "/chat/completions"
        direct_ms: list[float] = []
        gateway_ms: list[list[float]] = [[] for _ in gateways]
        for n in range(WARM_UP + rounds):
            latency = one_call(direct, direct_url, stream)
            if n >= WARM_UP:
                direct_ms.append(latency)
            for g, client, samples in zip(gateways, clients, gateway_ms, strict=True):
                latency = one_call(client, g.url, stream)
                if n >= WARM_UP:
                    samples.append(latency)
        for g in gateways:
            g.calls += WARM_UP + rounds
        return direct_ms, gateway_ms, window.stop()


def report(label: str, direct: list[float], gateway: list[float], server_ms: float,
           postgres_ms: float | None) -> None:
    """Print p50/p99 of both, what the gateway adds, and its CPU per call."""
    d50, d99 = percentile(direct, 0.5), percentile(direct, 0.99)
    g50, g99 = percentile(gateway, 0.5), percentile(gateway, 0.99)
    added = [g - d for d, g in zip(direct, gateway, strict=True)]
    database = "" if postgres_ms is None else f" + postgres {postgres_ms:4.2f}"
    print(f"{label:<19} direct p50 {d50:6.2f} ms  p99 {d99:6.2f} ms | gateway p50 {g50:6.2f}"
          f" ms  p99 {g99:6.2f} ms | added p50 {g50 - d50:5.2f} ms  p99 {g99 - d99:5.2f} ms"
          f"  (paired median {statistics.median(added):5.2f} ms) | server CPU"
          f" {server_ms:4.2f}{database} ms/call")


def latency(provider: ProviderProcess, gateways: list[Gateway], rounds: int,
            stream: bool) -> None:
    """Time and report one kind of completion (plain or streamed) on every backend."""
    direct, samples, used = compare(provider, gateways, rounds, stream)
    calls = WARM_UP + rounds
    for g, gateway_ms, server_s in zip(gateways, samples, used.servers, strict=True):
        database = used.postgres * 1000 / calls if g.backend == POSTGRES else None
        report(f"{'streamed' if stream else 'plain'} {g.backend}", direct, gateway_ms,
               server_s * 1000 / calls, database)


@dataclass
class Load:
    """One throughput configuration: where its clients send, and what it added up to."""

    label: str
    urls: list[str]
    headers: dict[str, str]
    server_pids: list[int]
    gateway: Gateway | None = None
    calls: int = 0
    used: CpuUse | None = None

    @property
    def on_postgres(self) -> bool:
        return self.gateway is not None and self.gateway.backend == POSTGRES

    def add(self, used: CpuUse) -> None:
        """Add one slice's CPU use to the total."""
        self.used = used if self.used is None else self.used + used


def drive(load: Load, clients: list[httpx.Client], seconds: float, provider_pid: int) -> None:
    """One thread per client for ``seconds``, client i sending to url i mod n."""
    counts = [0] * len(clients)
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        url = load.urls[index % len(load.urls)]
        while time.perf_counter() < deadline and not failures:
            status = clients[index].post(url, json=BODY).status_code
            if status != 200:
                failures.append(f"a throughput call to {load.label} answered {status}")
                return
            counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    window = CpuWindow(load.server_pids, with_postgres=load.on_postgres,
                       provider_pid=provider_pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.add(window.stop())
    if failures:
        raise SystemExit(failures[0])
    load.calls += sum(counts)
    if load.gateway is not None:
        load.gateway.calls += sum(counts)


def throughput(loads: list[Load], clients: int, seconds: float, provider_pid: int) -> None:
    """Give each load ``seconds`` in slices, taken in turn (each pass starts one further on).

    Each load keeps its ``clients`` clients, and their connections, from slice to slice.
    """
    slices = max(1, round(seconds / SLICE))
    with contextlib.ExitStack() as stack:
        pools = [[stack.enter_context(httpx.Client(headers=load.headers, timeout=30))
                  for _ in range(clients)] for load in loads]
        for n in range(slices):
            turn = n % len(loads)
            for load, pool in list(zip(loads, pools, strict=True))[turn:] + list(
                    zip(loads, pools, strict=True))[:turn]:
                drive(load, pool, seconds / slices, provider_pid)


def print_throughput(loads: list[Load], clients: int, seconds: float) -> None:
    print(f"throughput, {clients} concurrent clients for {seconds:g} s each"
          f" (in {SLICE:g} s slices taken in turn), each client on its own keep-alive"
          " connection, spread round-robin over the replicas:")
    for load in loads:
        used = load.used
        assert used is not None
        line = f"  {load.label:<20} {load.calls / used.elapsed:7.0f} req/s |"
        if load.server_pids:
            line += f" server CPU {sum(used.servers) * 1000 / load.calls:5.2f} ms/call"
            if len(used.servers) > 1:
                line += " (by replica " + " + ".join(f"{s * 1000 / load.calls:.2f}"
                                          for s in used.servers) + ")"
            if load.on_postgres:
                line += f", postgres {used.postgres * 1000 / load.calls:5.2f} ms/call"
            line += " |"
        print(f"{line} provider {used.provider * 1000 / load.calls:4.2f}, clients"
              f" {used.bench * 1000 / load.calls:4.2f} ms/call | CPU busy"
              f" {used.cores_busy:.2f} of {os.cpu_count()} cores")


def loads_of(direct_url: str, gateways: list[Gateway], replicas: list[int]) -> list[Load]:
    """The throughput configurations: direct, then each gateway (PostgreSQL per replica count)."""
    loads = [Load("direct", [direct_url], DIRECT_HEADERS, [])]
    for g in gateways:
        for count in replicas if g.backend == POSTGRES else [1]:
            label = f"{g.backend} x{count}" if g.backend == POSTGRES else g.backend
            urls = [f"{server.url}/v1/chat/completions" for server in g.servers[:count]]
            loads.append(Load(label, urls, g.headers, g.pids(count), g))
    return loads


def check_counts(gateways: list[Gateway]) -> bool:
    """Print each backend's counted calls; True when every call was counted."""
    complete = True
    for g in gateways:
        stats: dict = {}
        deadline = time.monotonic() + 5  # other replicas write their counts every second
        while True:
            for server in g.servers:  # each one writes its own pending counts first
                with admin_client(server) as api:
                    stats = api.get("/ai/llm/stats", params={"aiLlmId": g.llm_id}
                                    ).json()["stats"][0]
            if int(stats["totalApiCalls"]) >= g.calls or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        counted = int(stats["totalApiCalls"])
        complete = complete and counted == g.calls
        verdict = "all counted" if counted == g.calls else f"MISMATCH: {g.calls} sent"
        print(f"gateway calls counted, {g.backend}: {counted} ({verdict}; llm tokens in"
              f" {stats['totalLlmTokensIn']}, out {stats['totalLlmTokensOut']})")
    return complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--backends", type=backend_list, default=list(BACKENDS),
                        help="comma-separated: sqlite, postgres (default: both)")
    parser.add_argument("--replicas", type=count_list, default=[1, 3],
                        help="PostgreSQL replica counts for the throughput (default: 1,3)")
    args = parser.parse_args()

    with provider_process("ok", valid_key=DEFAULT_VALID_KEY) as provider, \
            tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        endpoint = provider.endpoint
        gateways = [stack.enter_context(gateway(
            Path(tmp), backend, max(args.replicas) if backend == POSTGRES else 1, endpoint))
            for backend in args.backends]
        direct_url = endpoint + "/chat/completions"
        stream_rounds = max(100, args.rounds // 4)
        print(f"{args.rounds} plain and {stream_rounds} streamed completions, one keep-alive"
              f" connection each, in turn direct / {' / '.join(args.backends)} gateway"
              f" ({load_line()}):")
        print(describe(args.backends))
        latency(provider, gateways, args.rounds, False)
        latency(provider, gateways, stream_rounds, True)
        loads = loads_of(direct_url, gateways, args.replicas)
        throughput(loads, args.clients, args.seconds, provider.pid)
        print_throughput(loads, args.clients, args.seconds)
        complete = check_counts(gateways)
        print(load_line())
    if not complete:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
