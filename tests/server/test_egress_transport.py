"""The endpoint policy at connect time: probes through the real outbound transport.

Every probe here goes through :func:`~flashback_tui.server.probes.probe` and
:class:`~flashback_tui.server.upstream.UpstreamTransport`. Names resolve from a table, and
connections are opened by ``RecordingBackend``, which connects to loopback only: a refused
address is proven refused by the backend never having been asked to connect at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from flashback_tui.api.models import AiType
from flashback_tui.server.egress import EndpointPolicy, EndpointRefused, refused_endpoint_reason
from flashback_tui.server.probes import ProbeResult, describe_transport_error, probe
from flashback_tui.server.probes import forget_auth_enforcement as forget
from flashback_tui.server.upstream import GuardedBackend, UpstreamTransport, _guard
from tests.support.egress import FakeResolver, RecordingBackend, answers
from tests.support.fake_provider import OPENAI_MODELS, FakeProvider
from tests.support.recording_proxy import RecordingProxy
from tests.support.redirector import Redirector

pytestmark = pytest.mark.no_database

KEY = "sk-egress-right-key-000000000001"
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
METADATA = "a link-local/cloud metadata address (set FLASHBACK_ENDPOINT_ALLOW to allow it)"


@pytest.fixture(autouse=True)
def no_proxy_no_policy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy and no FLASHBACK_ENDPOINT_* from the developer's shell; nothing remembered."""
    for name in (*PROXY_ENV, "FLASHBACK_ENDPOINT_ALLOW", "FLASHBACK_ENDPOINT_DENY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    forget()


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={KEY}) as running:
        yield running


@pytest.fixture
def fresh(provider: FakeProvider) -> FakeProvider:
    provider.clear()
    return provider


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


@pytest.fixture
async def transport(
    resolver: FakeResolver, backend: RecordingBackend
) -> AsyncIterator[UpstreamTransport]:
    """The real transport, resolving from ``resolver`` and connecting through ``backend``."""
    upstream = UpstreamTransport(policy=EndpointPolicy(resolver=resolver), network_backend=backend)
    yield upstream
    await upstream.aclose()


async def openai_probe(endpoint: str, transport: httpx.AsyncBaseTransport | None,
                       timeout: float = 5.0) -> ProbeResult:  # noqa: ASYNC109
    return await probe(AiType.OPENAI, endpoint, None, KEY, transport=transport, timeout=timeout)


def validated(provider: FakeProvider, host: str | None = None) -> ProbeResult:
    where = host or f"127.0.0.1:{provider.port}"
    return ProbeResult(True, f"Validated: {len(OPENAI_MODELS)} models available at {where}")


# ---------------------------------------------------------------------------------------------
# Allowed endpoints still work
# ---------------------------------------------------------------------------------------------


async def test_a_loopback_provider_validates_with_the_default_policy(fresh: FakeProvider) -> None:
    assert await openai_probe(fresh.endpoint("ok"), None) == validated(fresh)


async def test_a_name_is_connected_to_at_its_checked_address_and_keeps_its_host(
    fresh: FakeProvider, resolver: FakeResolver, backend: RecordingBackend,
    transport: UpstreamTransport,
) -> None:
    resolver.table["provider.test"] = ["127.0.0.1"]
    endpoint = fresh.endpoint("ok").replace("127.0.0.1", "provider.test")

    result = await openai_probe(endpoint, transport)

    assert result == validated(fresh, f"provider.test:{fresh.port}")
    assert backend.connects == [("127.0.0.1", fresh.port)]  # one pooled connection, by address
    assert {r.headers["host"] for r in fresh.requests_for("ok")} == {f"provider.test:{fresh.port}"}


async def test_tls_is_started_for_the_host_name_not_the_address(
    fresh: FakeProvider, resolver: FakeResolver, backend: RecordingBackend,
    transport: UpstreamTransport,
) -> None:
    resolver.table["tls.test"] = ["127.0.0.1"]
    endpoint = fresh.endpoint("ok").replace("http://127.0.0.1", "https://tls.test")

    result = await openai_probe(endpoint, transport)  # a plain HTTP port: the handshake fails

    assert result.message.startswith("Validation failed: endpoint unreachable (TLS error: ")
    assert backend.connects == [("127.0.0.1", fresh.port)]
    assert backend.tls_names == ["tls.test"]


async def test_an_unreachable_first_address_does_not_hold_up_the_next(
    fresh: FakeProvider, resolver: FakeResolver, transport: UpstreamTransport,
    backend: RecordingBackend, probe_timeout: float,
) -> None:
    backend.blackholed.add("2001:db8::1")  # documentation prefix: hangs, never connected
    resolver.table["dual.test"] = ["2001:db8::1", "127.0.0.1"]
    endpoint = fresh.endpoint("ok").replace("127.0.0.1", "dual.test")

    result = await openai_probe(endpoint, transport, timeout=probe_timeout)

    assert result.success, result.message
    assert backend.connects == [("2001:db8::1", fresh.port), ("127.0.0.1", fresh.port)]


async def test_a_name_that_does_not_resolve_is_unreachable(transport: UpstreamTransport) -> None:
    result = await openai_probe("http://nowhere.test/v1", transport)

    assert result == ProbeResult(
        False, "Validation failed: endpoint unreachable (host name not found)"
    )


async def test_a_resolver_that_hangs_is_bounded_by_the_probe_timeout(
    backend: RecordingBackend,
) -> None:
    transport = UpstreamTransport(policy=EndpointPolicy(resolver=FakeResolver(hang=True)),
                                  network_backend=backend)
    try:
        result = await openai_probe("http://slow-dns.test/v1", transport, timeout=0.3)
    finally:
        await transport.aclose()

    assert result == ProbeResult(
        False, "Validation failed: no answer from slow-dns.test within 0.3 s"
    )
    assert backend.connects == []


# ---------------------------------------------------------------------------------------------
# Refused endpoints
# ---------------------------------------------------------------------------------------------


async def test_a_deny_of_loopback_fails_validation_naming_the_rule(
    fresh: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHBACK_ENDPOINT_DENY", "127.0.0.0/8")

    result = await openai_probe(fresh.endpoint("ok"), None)  # the environment's policy

    assert result == ProbeResult(
        False,
        "Validation failed: endpoint refused: 127.0.0.1 is in 127.0.0.0/8, listed in "
        "FLASHBACK_ENDPOINT_DENY",
    )
    assert fresh.requests == []


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://169.254.169.254/v1", f"169.254.169.254 is {METADATA}"),
        ("http://[::ffff:169.254.169.254]/v1",
         f"::ffff:169.254.169.254 (IPv4 169.254.169.254) is {METADATA}"),
        ("http://0.0.0.0:9/v1", "0.0.0.0 is the unspecified address (set "
         "FLASHBACK_ENDPOINT_ALLOW to allow it)"),
        ("https://evil.test/v1", f"evil.test resolves to 169.254.169.254, {METADATA}"),
        ("https://mixed.test/v1", f"mixed.test resolves to 169.254.169.254, {METADATA}"),
        ("https://mapped.test/v1",
         f"mapped.test resolves to ::ffff:169.254.169.254 (IPv4 169.254.169.254), {METADATA}"),
    ],
)
async def test_a_refused_address_is_never_connected_to(
    endpoint: str, reason: str, resolver: FakeResolver, backend: RecordingBackend,
    transport: UpstreamTransport,
) -> None:
    resolver.table |= {"evil.test": ["169.254.169.254"],
                       "mixed.test": ["127.0.0.1", "169.254.169.254"],
                       "mapped.test": ["::ffff:169.254.169.254"]}

    result = await openai_probe(endpoint, transport)

    assert result == ProbeResult(False, f"Validation failed: endpoint refused: {reason}")
    assert backend.connects == []


async def test_a_name_rebound_after_the_create_time_check_is_refused_at_connect_time(
    fresh: FakeProvider, resolver: FakeResolver, backend: RecordingBackend,
    transport: UpstreamTransport,
) -> None:
    resolver.table["rebind.test"] = answers(["127.0.0.1"], ["169.254.169.254"])
    endpoint = fresh.endpoint("ok").replace("127.0.0.1", "rebind.test")

    assert await refused_endpoint_reason(endpoint, transport.policy) is None  # at create
    result = await openai_probe(endpoint, transport)

    assert result == ProbeResult(
        False, f"Validation failed: endpoint refused: rebind.test resolves to 169.254.169.254, "
        f"{METADATA}",
    )
    assert backend.connects == []
    assert fresh.requests == []


async def test_the_refusal_is_an_endpoint_refused_and_a_connect_error(
    backend: RecordingBackend, transport: UpstreamTransport,
) -> None:
    request = httpx.Request("GET", "http://169.254.169.254/latest/meta-data/")

    with pytest.raises(EndpointRefused) as refused:
        await transport.handle_async_request(request)

    assert isinstance(refused.value, httpx.ConnectError)  # what the gateway already catches
    assert refused.value.reason == f"endpoint refused: 169.254.169.254 is {METADATA}"
    assert describe_transport_error(refused.value) == refused.value.reason
    assert backend.connects == []


def test_the_guard_refuses_to_be_skipped() -> None:
    proxied = httpx.AsyncHTTPTransport(proxy="http://127.0.0.1:9")

    with pytest.raises(RuntimeError, match="cannot check outbound connections"):
        _guard(proxied, GuardedBackend(EndpointPolicy()))


# ---------------------------------------------------------------------------------------------
# Through a forward proxy (best effort)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    with RecordingProxy(KEY) as running:
        monkeypatch.setenv("HTTP_PROXY", running.url)
        yield running


async def test_a_proxied_target_resolving_to_a_refused_address_is_not_sent(
    proxy: RecordingProxy, resolver: FakeResolver, transport: UpstreamTransport,
) -> None:
    resolver.table["proxied-evil.test"] = ["169.254.169.254"]

    direct = await openai_probe("http://169.254.169.254/v1", transport)
    named = await openai_probe("http://proxied-evil.test/v1", transport)

    assert direct.message == f"Validation failed: endpoint refused: 169.254.169.254 is {METADATA}"
    assert named.message == (
        f"Validation failed: endpoint refused: proxied-evil.test resolves to 169.254.169.254, "
        f"{METADATA}"
    )
    assert proxy.targets == []


async def test_a_proxied_denied_name_is_not_sent_nor_resolved(
    proxy: RecordingProxy, backend: RecordingBackend,
) -> None:
    resolver = FakeResolver({"api.blocked.test": ["203.0.113.7"]})
    transport = UpstreamTransport(policy=EndpointPolicy(deny=["*.blocked.test"], resolver=resolver),
                                  network_backend=backend)
    try:
        result = await openai_probe("http://api.blocked.test/v1", transport)
    finally:
        await transport.aclose()

    assert result.message == (
        "Validation failed: endpoint refused: api.blocked.test matches *.blocked.test in "
        "FLASHBACK_ENDPOINT_DENY"
    )
    assert proxy.targets == []
    assert resolver.calls == []


async def test_a_proxied_name_unknown_here_goes_to_the_proxy_checked_once(
    proxy: RecordingProxy, backend: RecordingBackend,
) -> None:
    resolver = FakeResolver()
    # The proxy itself is on loopback: it is the operator's choice, not an endpoint.
    policy = EndpointPolicy(deny=["127.0.0.0/8"], resolver=resolver)
    transport = UpstreamTransport(policy=policy, network_backend=backend)
    try:
        result = await openai_probe("http://inside-only.test/v1", transport)
    finally:
        await transport.aclose()

    assert result.success, result.message
    assert proxy.targets == ["http://inside-only.test/v1/models"] * 2
    assert resolver.calls == ["inside-only.test"]  # the second request reused the check


# ---------------------------------------------------------------------------------------------
# Redirects
# ---------------------------------------------------------------------------------------------




async def test_a_redirect_to_another_origin_is_never_followed(fresh: FakeProvider) -> None:
    with Redirector(fresh.url) as redirector:
        result = await openai_probe(f"{redirector.url}/ok/v1", None)
        await asyncio.sleep(0.05)  # a request that followed would be recorded by now

    assert result == ProbeResult(
        False,
        "Validation failed: provider answered 302 Found; a redirect to 127.0.0.1, not followed",
    )
    assert redirector.paths == ["/ok/v1/models"]
    assert fresh.requests == []  # the second listener saw nothing
