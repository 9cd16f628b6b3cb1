"""Fixtures of the client tests: clients per role, configurations, a canary, odd servers.

``stand_in`` answers what a real Flashback server never does (HTML, wrongly shaped JSON, a
proxy's 502 page) so the client's handling of such answers can be checked over real sockets.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def canary() -> str:
    """A secret that must never come back in any answer, message or repr."""
    return f"sk-CANARY-{uuid.uuid4().hex}"


@dataclass
class StandIn:
    """A running odd-answer server: its base URL and the requests it has seen.

    ``answer(method, path, body, status=200)`` cans an answer for one method and path (the
    query ignored): the body is sent exactly as given, as the platform's types declare it.
    """

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    canned: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)

    def answer(self, method: str, path: str, body: Any, status: int = 200) -> None:
        """Answer ``method path`` with ``body`` (JSON) and ``status`` from now on."""
        self.canned[(method, path)] = (status, body)


def _handler_for(stand_in: StandIn, canary: str) -> type[BaseHTTPRequestHandler]:
    class OddAnswers(BaseHTTPRequestHandler):
        """Answers by the first path segment: /html, /shape, /long-error or /bad-gateway."""

        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            stand_in.requests.append(
                {"path": self.path, "method": self.command, "body": raw,
                 "headers": {k.lower(): v for k, v in self.headers.items()}}
            )
            canned = stand_in.canned.get((self.command, self.path.split("?", 1)[0]))
            if canned is not None:
                self._send(canned[0], "application/json", json.dumps(canned[1]).encode())
            elif self.path.startswith("/html/"):
                self._send(200, "text/html", b"<html><body>Welcome</body></html>")
            elif self.path.startswith("/long-error/"):
                body = {"success": False, "message": "x" * 10_000}
                self._send(400, "application/json", json.dumps(body).encode())
            elif self.path.startswith("/bad-gateway/"):
                self._send(502, "text/html", b"<html>502 Bad Gateway</html>")
            elif self.path.startswith("/shape/user/login"):
                # A login answer with a wrongly typed expiry, carrying tokens never to echo.
                body = {"success": True, "accessToken": canary, "refreshToken": canary,
                        "expiresAt": "soon"}
                self._send(200, "application/json", json.dumps(body).encode())
            else:
                self._send(200, "application/json", b'{"success": true}')

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return OddAnswers


@pytest.fixture
def stand_in(canary: str) -> Iterator[StandIn]:
    """A loopback HTTP server with answers that break the contract."""
    stand_in = StandIn(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(stand_in, canary))
    server.daemon_threads = True
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- fixtures over the real local server (``platform`` and ``world`` from tests/conftest.py) --

PROVIDER_KEY = "sk-provider-right-key"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """A loopback AI provider that accepts ``PROVIDER_KEY``."""
    with FakeProvider(valid_keys={PROVIDER_KEY}) as running:
        yield running


@pytest.fixture
async def clients(platform, world) -> AsyncIterator[Callable[[str], FlashbackClient]]:
    """``clients(role)``: a client signed in as the ``world`` user of that role.

    Roles are ``READ``, ``WRITE``, ``ADMIN``, ``NONE`` (member of nothing) and ``INVALID``
    (a token the server never issued).
    """
    opened: dict[str, FlashbackClient] = {}

    def client_for(role: str) -> FlashbackClient:
        if role not in opened:
            token = "not-a-real-token" if role == "INVALID" else world.tokens[role]
            opened[role] = FlashbackClient(platform.url, token=token, retry_delays=())
        return opened[role]

    yield client_for
    for client in opened.values():
        await client.aclose()


@pytest.fixture
def new_config(world, provider) -> Callable[..., Awaitable[str]]:
    """``await new_config(client, **fields)``: create a configuration, answer its id.

    Defaults: a unique name, OPENAI, the provider's ``ok`` endpoint, the right key as
    secret, in the ``world`` workspace.
    """

    async def create(client: FlashbackClient, **fields: Any) -> str:
        values: dict[str, Any] = {
            "name": f"cfg-{uuid.uuid4().hex[:10]}",
            "ai_type": AiType.OPENAI,
            "endpoint": provider.endpoint("ok"),
            "secret": PROVIDER_KEY,
            "workspace_id": world.workspace_id,
        }
        values.update(fields)
        answer = await client.create_ai_llm(AiLlmCreate(**values))
        assert answer.success
        return answer.ai_llm_id

    return create
