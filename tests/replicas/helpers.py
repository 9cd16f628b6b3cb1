"""Replicas of one platform: several ``serve`` processes on one PostgreSQL database.

:class:`Replicas` starts ``count`` real servers (:class:`LocalServer`, each with its own data
dir and loopback port) on one database URL, as an on-prem team runs them behind a load
balancer; :func:`link_key` builds a configuration on the provider stand-in, a repository
and its AI API key through one replica's HTTP API; :func:`chat` is one gateway call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, Linked, make_linked
from tests.support.postgres import fresh_database_url, postgres_env

#: Failed sign-ins of one pair before every replica locks it out.
MAX_FAILURES = 3
#: Settings every replica runs with (a lockout far longer than any test).
REPLICA_ENV = {"FLASHBACK_PROBE_TIMEOUT": "2", "FLASHBACK_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
               "FLASHBACK_LOGIN_LOCKOUT": "600"}
#: Seconds a replica may take to start on a busy machine.
START_TIMEOUT = 60.0


class Replicas:
    """``count`` platform servers on one fresh database, each with its own data dir and port."""

    def __init__(self, base: Path, count: int, *, env: dict[str, str] | None = None) -> None:
        self.base = base
        self.database_url = fresh_database_url()
        self.env = {**postgres_env(self.database_url), **REPLICA_ENV, **(env or {})}
        self.servers = [LocalServer(base / f"replica-{n}", env=dict(self.env))
                        for n in range(count)]

    def start(self) -> None:
        """Start every replica at once (they race for the fresh database's migration)."""
        for server in self.servers:
            server.spawn()
        for server in self.servers:
            server.start(timeout=START_TIMEOUT)

    def stop(self) -> None:
        """Stop every replica still running."""
        for server in self.servers:
            server.stop()

    def restart(self, n: int, env: dict[str, str]) -> None:
        """Stop replica ``n`` and start it again with ``env`` added to its environment."""
        server = self.servers[n]
        server.stop()
        server.env = {**server.env, **env}
        server.start(timeout=START_TIMEOUT)

    def add(self, env: dict[str, str] | None = None) -> LocalServer:
        """Start one more replica on the same database."""
        server = LocalServer(self.base / f"replica-{len(self.servers)}",
                             env={**self.env, **(env or {})})
        self.servers.append(server)
        server.start(timeout=START_TIMEOUT)
        return server

    def api(self, n: int) -> Api:
        """Replica ``n``'s HTTP API as admin@localhost."""
        server = self.servers[n]
        return Api(server.url, server.admin_token.get_secret_value())

    @contextlib.contextmanager
    def database(self, env: dict[str, str] | None = None) -> Iterator[PlatformState]:
        """The shared database, opened as the ``admin`` commands open it."""
        with PlatformState.open(self.base / "operator", env={**self.env, **(env or {})}
                                ) as state:
            yield state


def running(base: Path, count: int, *, env: dict[str, str] | None = None
            ) -> Iterator[Replicas]:
    """A module fixture's body: ``count`` replicas started together, stopped at the end."""
    group = Replicas(base, count, env=env)
    try:
        group.start()
        yield group
    finally:
        group.stop()


def link_key(replicas: Replicas, n: int, endpoint: str, name: str) -> Linked:
    """A configuration on ``endpoint``, a repository using it and its key, made through
    replica ``n`` in the Default workspace."""
    server = replicas.servers[n]
    token = server.admin_token.get_secret_value()
    api = Api(server.url, token)
    workspace = next(w for w in api.call("GET", "/workspace")["workspaces"]
                     if w["name"] == "Default")
    world = World(workspace_id=workspace["id"], workspace_name="Default",
                  tokens={"WRITE": token})
    handle = PlatformHandle(url=server.url, data_dir=server.data_dir, admin_token=token,
                            server=server, env=replicas.env)
    return make_linked(handle, world, endpoint, repo_name=name)


@dataclass
class Answer:
    """What a gateway call gave its client: the status and, for a 200, the provider's usage."""

    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0


def turn(opening: str, question: str | None = None, *, system: str = "You are terse."
         ) -> list[dict[str, str]]:
    """The messages of a chat's turn: the opening, and a later question after an answer."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": opening}]
    if question is not None:
        messages += [{"role": "assistant", "content": "Noted."},
                     {"role": "user", "content": question}]
    return messages


def chat(http: httpx.Client, url: str, secret: str, messages: str | list[dict[str, str]], *,
         stream: bool = False) -> Answer:
    """One chat completion through the gateway at ``url``, read to its end (a text is the
    opening of a chat of its own)."""
    if isinstance(messages, str):
        messages = turn(messages)
    body: dict[str, Any] = {"model": "fake-gpt-small", "messages": messages}
    headers = {"Authorization": f"Bearer {secret}"}
    if not stream:
        response = http.post(f"{url}/v1/chat/completions", json=body, headers=headers)
        if response.status_code != 200:
            return Answer(response.status_code)
        usage = response.json()["usage"]
        return Answer(200, usage["prompt_tokens"], usage["completion_tokens"])
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    with http.stream("POST", f"{url}/v1/chat/completions", json=body,
                     headers=headers) as response:
        if response.status_code != 200:
            return Answer(response.status_code)
        return _read_stream(response)


def _read_stream(response: httpx.Response) -> Answer:
    """The usage of a streamed answer that ended with ``[DONE]`` (else status 0: broken)."""
    import json

    usage: dict[str, int] = {}
    for line in response.iter_lines():
        data = line.removeprefix("data:").strip()
        if data == "[DONE]":
            return Answer(200, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        if data:
            usage = json.loads(data).get("usage") or usage
    return Answer(0)
