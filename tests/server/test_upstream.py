"""Outbound calls of the local platform honour the proxy environment (loopback excepted).

The proxy is a small recording HTTP proxy on 127.0.0.1 that also answers like a provider, so
no request ever leaves the machine: the provider host names below are never resolved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flashback_tui.api.models import AiType
from flashback_tui.server.probes import forget_auth_enforcement, probe
from flashback_tui.server.upstream import UpstreamTransport
from tests.support.fake_provider import FakeProvider

KEY = "sk-upstream-right-key-0001"
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class RecordingProxy:
    """A forward proxy stand-in: records absolute-form request targets, answers as OpenAI."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.targets.append(self.path)
                if self.headers.get("Authorization") == f"Bearer {KEY}":
                    status, body = 200, {"object": "list", "data": [{"id": "gpt-test"}]}
                else:
                    status, body = 401, {"error": {"message": "Incorrect API key"}}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    """A recording proxy named by HTTP_PROXY, with no other proxy variable set."""
    for name in PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    forget_auth_enforcement()
    with RecordingProxy() as running:
        monkeypatch.setenv("HTTP_PROXY", running.url)
        yield running


async def test_a_probe_goes_through_the_proxy_the_environment_names(
    proxy: RecordingProxy,
) -> None:
    result = await probe(AiType.OPENAI, "http://provider.flashback.test/v1", None, KEY)

    assert result.success, result.message
    assert proxy.targets == ["http://provider.flashback.test/v1/models"] * 2  # key, wrong key


async def test_one_transport_sends_loopback_directly_and_the_rest_through_the_proxy(
    proxy: RecordingProxy,
) -> None:
    with FakeProvider(valid_keys={KEY}) as provider:
        transport = UpstreamTransport()
        try:
            loopback = await probe(AiType.OPENAI, provider.endpoint("ok"), None, KEY,
                                   transport=transport)
            proxied = await probe(AiType.OPENAI, "http://proxied.flashback.test/v1", None, KEY,
                                  transport=transport)
        finally:
            await transport.aclose()

    assert loopback.success and proxied.success
    assert provider.requests_for("ok")  # the stand-in provider was reached without the proxy
    assert proxy.targets == ["http://proxied.flashback.test/v1/models"] * 2
