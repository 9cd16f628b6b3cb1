"""Outbound calls of the local platform honour the proxy environment (loopback excepted).

The proxy is a small recording HTTP proxy on 127.0.0.1 that also answers like a provider, so
no request ever leaves the machine: the provider host names below are never resolved by the
system (the endpoint policy's resolver is a table that knows none of them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flashback_tui.api.models import AiType
from flashback_tui.server.egress import EndpointPolicy
from flashback_tui.server.probes import forget_auth_enforcement, probe
from flashback_tui.server.upstream import UpstreamTransport
from tests.support.egress import FakeResolver
from tests.support.fake_provider import FakeProvider
from tests.support.recording_proxy import RecordingProxy

pytestmark = pytest.mark.no_database

KEY = "sk-upstream-right-key-0001"
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    """A recording proxy named by HTTP_PROXY, with no other proxy variable set."""
    for name in PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    forget_auth_enforcement()
    with RecordingProxy(KEY) as running:
        monkeypatch.setenv("HTTP_PROXY", running.url)
        yield running


def offline_transport() -> UpstreamTransport:
    """A transport whose policy resolves no name (as if only the proxy knew them)."""
    return UpstreamTransport(policy=EndpointPolicy(resolver=FakeResolver()))


async def test_a_probe_goes_through_the_proxy_the_environment_names(
    proxy: RecordingProxy,
) -> None:
    transport = offline_transport()
    try:
        result = await probe(AiType.OPENAI, "http://provider.flashback.test/v1", None, KEY,
                             transport=transport)
    finally:
        await transport.aclose()

    assert result.success, result.message
    assert proxy.targets == ["http://provider.flashback.test/v1/models"] * 2  # key, wrong key


async def test_one_transport_sends_loopback_directly_and_the_rest_through_the_proxy(
    proxy: RecordingProxy,
) -> None:
    with FakeProvider(valid_keys={KEY}) as provider:
        transport = offline_transport()
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
