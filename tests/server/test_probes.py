"""Validation probes against the loopback provider stand-in: every outcome and its message."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from flashback_tui.api.models import AiType
from flashback_tui.server.probes import (
    ANTHROPIC_VERSION,
    ProbeResult,
    bedrock_control_endpoint,
    bedrock_region,
    describe_transport_error,
    forget_auth_enforcement,
    probe,
)
from flashback_tui.server.upstream import UpstreamTransport
from tests.support.fake_provider import (
    BEDROCK_MODELS,
    OPENAI_MODELS,
    FakeProvider,
    closed_port_url,
)

pytestmark = pytest.mark.no_database

KEY = "sk-probe-right-key-000000000001"
AWS_KEY_ID = "AKIAPROBETEST0000001"
AWS_SECRET = "probe/aws+secret-access-key/000001"
INVALID_CREDENTIALS = "Validation failed: invalid credentials (401 Unauthorized)"
NOT_ENFORCED = "but the endpoint accepted an invalid key too: it does not enforce authentication"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """One provider for the module; tests tell their requests apart by scenario."""
    with FakeProvider(valid_keys={KEY}, aws_credentials={AWS_KEY_ID: AWS_SECRET}) as running:
        yield running


@pytest.fixture
def fresh(provider: FakeProvider) -> FakeProvider:
    """The shared provider with no recorded requests, and no endpoint remembered."""
    provider.clear()
    forget_auth_enforcement()
    return provider


@pytest.fixture
async def shared_transport() -> AsyncIterator[httpx.AsyncBaseTransport]:
    """A pooled transport like the one the server passes to many concurrent probes."""
    transport = UpstreamTransport()
    yield transport
    await transport.aclose()


@pytest.fixture
def canary() -> str:
    """A secret that must never appear in a message."""
    return f"sk-CANARY-{uuid.uuid4().hex}"


def host_of(provider: FakeProvider) -> str:
    return f"127.0.0.1:{provider.port}"


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible endpoints
# ---------------------------------------------------------------------------------------------


async def test_right_key_lists_models_and_never_calls_a_completion(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("ok"), None, KEY)

    assert result == ProbeResult(
        True, f"Validated: {len(OPENAI_MODELS)} models available at {host_of(fresh)}"
    )
    recorded = fresh.requests_for("ok")
    assert [(r.method, r.path) for r in recorded] == [("GET", "/ok/v1/models")] * 2
    assert [r.auth_ok for r in recorded] == [True, False]  # the second probe uses a wrong key
    assert all(r.auth_scheme == "Bearer" for r in recorded)


async def test_wrong_key_is_invalid_credentials_and_not_probed_twice(fresh: FakeProvider) -> None:
    result = await probe("OPENAI", fresh.endpoint("ok"), None, "sk-wrong")

    assert result == ProbeResult(False, INVALID_CREDENTIALS)
    assert len(fresh.requests_for("ok")) == 1


async def test_endpoint_accepting_any_key_is_flagged(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("anykey"), None, KEY)

    assert result.success is True
    assert result.message == (
        f"Validated: {len(OPENAI_MODELS)} models available at {host_of(fresh)}, {NOT_ENFORCED}"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, "Validation failed: provider answered 500 Internal Server Error: "),
        (503, "Validation failed: provider answered 503 Service Unavailable: "),
        (429, "Validation failed: provider answered 429 Too Many Requests: "),
    ],
)
async def test_other_statuses_are_reported_with_their_status(
    fresh: FakeProvider, status: int, expected: str
) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("status", status), None, KEY)

    assert result.success is False
    assert result.message.startswith(expected)
    assert "answers" in result.message  # the provider's own error text is quoted


async def test_not_found_suggests_checking_the_path(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("status", 404), None, KEY)

    assert result.success is False
    assert result.message.startswith("Validation failed: provider answered 404 Not Found")
    assert result.message.endswith("(no model list at this endpoint; check its path)")


@pytest.mark.parametrize(("status", "reason"), [(401, "401 Unauthorized"), (403, "403 Forbidden")])
async def test_401_and_403_mean_invalid_credentials(
    fresh: FakeProvider, status: int, reason: str
) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("status", status), None, KEY)

    assert result == ProbeResult(False, f"Validation failed: invalid credentials ({reason})")


async def test_timeout_bounds_the_whole_request(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("hang"), None, KEY, timeout=0.3)

    assert result == ProbeResult(
        False, f"Validation failed: no answer from {host_of(fresh)} within 0.3 s"
    )


async def test_slow_answer_beyond_the_timeout_is_a_timeout(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("slow", 2000), None, KEY, timeout=0.2)

    assert result.success is False
    assert result.message.endswith("within 0.2 s")


async def test_timeout_bounds_the_whole_probe_including_the_wrong_key_check(
    fresh: FakeProvider,
) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("tarpit"), None, KEY, timeout=1.0)

    assert result.success is True
    assert result.message == (
        f"Validated: {len(OPENAI_MODELS)} models available at {host_of(fresh)} (could not "
        f"check that it rejects invalid keys: no answer from {host_of(fresh)} within 1 s)"
    )
    assert [r.auth_ok for r in fresh.requests_for("tarpit")] == [True, None]


async def test_a_non_http_endpoint_fails_clearly() -> None:
    result = await probe(AiType.OPENAI, "ftp://127.0.0.1/v1", None, KEY)

    assert result == ProbeResult(
        False,
        "Validation failed: request to 127.0.0.1 failed (the endpoint is not a valid http(s) URL)",
    )


async def test_closed_port_is_unreachable(probe_timeout: float) -> None:
    result = await probe(AiType.OPENAI, closed_port_url(), None, KEY, timeout=probe_timeout)

    assert result == ProbeResult(
        False, "Validation failed: endpoint unreachable (connection refused)"
    )


async def test_tls_to_a_plain_http_port_is_a_tls_error(fresh: FakeProvider,
                                                      probe_timeout: float) -> None:
    endpoint = fresh.endpoint("ok").replace("http://", "https://")

    result = await probe(AiType.OPENAI, endpoint, None, KEY, timeout=probe_timeout)

    assert result.success is False
    assert result.message.startswith("Validation failed: endpoint unreachable (TLS error: ")


def _resolver_is_local() -> bool:
    """True when every configured name server is on loopback (no traffic leaves the host)."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        return False
    servers = [line.split()[1] for line in lines if line.startswith("nameserver ")]
    try:
        return bool(servers) and all(ipaddress.ip_address(s).is_loopback for s in servers)
    except ValueError:
        return False


@pytest.mark.skipif(
    not _resolver_is_local(),
    reason="the resolver is not on loopback, so a .invalid lookup would leave the host",
)
async def test_unknown_host_is_unreachable() -> None:
    result = await probe(AiType.OPENAI, "http://nonexistent.invalid/v1", None, KEY, timeout=2)

    assert result == ProbeResult(
        False, "Validation failed: endpoint unreachable (host name not found)"
    )


def test_transport_errors_are_described_from_their_cause() -> None:
    def chained(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except BaseException as inner:
                raise httpx.ConnectError("details with http://user:pw@host/") from inner
        except httpx.ConnectError as outer:
            return outer

    name_error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert describe_transport_error(chained(name_error)) == "host name not found"
    assert describe_transport_error(chained(ConnectionRefusedError(111, "x"))) == (
        "connection refused"
    )
    tls_error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    tls_error.verify_message = "self-signed certificate"
    assert describe_transport_error(chained(tls_error)) == "TLS error: self-signed certificate"
    assert describe_transport_error(httpx.ConnectError("http://user:pw@host/")) == (
        "could not connect"
    )


async def test_redirects_are_not_followed(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("redirect"), None, KEY)

    assert result == ProbeResult(
        False,
        "Validation failed: provider answered 302 Found; a redirect to localhost, not followed",
    )
    assert len(fresh.requests_for("redirect")) == 1
    assert fresh.requests_for("ok") == []


async def test_a_web_page_is_not_a_provider(fresh: FakeProvider) -> None:
    result = await probe(AiType.OPENAI, fresh.endpoint("html"), None, KEY)

    assert result.success is False
    assert "answered 200 but not with a model list" in result.message


async def test_missing_secret_fails_without_a_network_call(fresh: FakeProvider) -> None:
    for ai_type in (AiType.OPENAI, AiType.ANTHROPIC, AiType.GOOGLE):
        result = await probe(ai_type, fresh.endpoint("anykey"), None, None)
        assert result == ProbeResult(
            False, "Validation failed: no API key (secret) is stored for this configuration"
        )
    assert fresh.requests_for("anykey") == []


async def test_other_without_secret_probes_without_auth_and_checks_enforcement(
    fresh: FakeProvider,
) -> None:
    result = await probe(AiType.OTHER, fresh.endpoint("anykey"), None, None)

    assert result.success is True
    assert result.message.startswith(
        f"Validated without credentials: {len(OPENAI_MODELS)} models available"
    )
    assert result.message.endswith(NOT_ENFORCED)
    first, second = fresh.requests_for("anykey")
    assert "authorization" not in first.headers
    assert second.auth_scheme == "Bearer"


async def test_other_without_secret_on_an_authenticated_endpoint_fails(
    fresh: FakeProvider,
) -> None:
    result = await probe(AiType.OTHER, fresh.endpoint("ok"), None, None)

    assert result == ProbeResult(False, INVALID_CREDENTIALS)


async def test_other_without_endpoint_fails_clearly() -> None:
    result = await probe(AiType.OTHER, None, None, KEY)

    assert result == ProbeResult(
        False, "Validation failed: no endpoint is set for this configuration"
    )


async def test_a_passed_transport_is_reused_for_concurrent_probes(
    fresh: FakeProvider, shared_transport: httpx.AsyncBaseTransport
) -> None:
    endpoint = fresh.endpoint("slow", 20)

    results = await asyncio.gather(
        *(probe(AiType.OPENAI, endpoint, None, KEY, transport=shared_transport) for _ in range(24))
    )

    assert all(r.success and NOT_ENFORCED not in r.message for r in results)
    slow_20 = [r for r in fresh.requests_for("slow") if r.path.startswith("/slow/20/")]
    with_the_key = [r for r in slow_20 if r.auth_ok]
    with_a_wrong_key = [r for r in slow_20 if not r.auth_ok]
    assert len(with_the_key) == 24
    # Once one probe has seen the endpoint reject a wrong key, later ones may skip that check.
    assert 1 <= len(with_a_wrong_key) <= 24


# ---------------------------------------------------------------------------------------------
# Google, Anthropic, AWS
# ---------------------------------------------------------------------------------------------


async def test_google_sends_the_key_in_a_header_never_in_the_url(fresh: FakeProvider) -> None:
    result = await probe(AiType.GOOGLE, fresh.endpoint("google", version="v1beta"), None, KEY)

    assert result == ProbeResult(True, f"Validated: 2 models available at {host_of(fresh)}")
    for request in fresh.requests_for("google"):
        assert request.target == "/google/v1beta/models"
        assert request.query == ""
        assert "x-goog-api-key" in request.headers
        assert "authorization" not in request.headers
        assert KEY not in request.target


async def test_google_400_api_key_invalid_is_invalid_credentials(fresh: FakeProvider) -> None:
    result = await probe(AiType.GOOGLE, fresh.endpoint("google", version="v1beta"), None, "AIza-x")

    assert result == ProbeResult(False, "Validation failed: invalid credentials (API_KEY_INVALID)")


async def test_anthropic_sends_its_headers(fresh: FakeProvider) -> None:
    result = await probe(AiType.ANTHROPIC, fresh.endpoint("anthropic"), None, KEY)

    assert result == ProbeResult(True, f"Validated: 2 models available at {host_of(fresh)}")
    first = fresh.requests_for("anthropic")[0]
    assert first.path == "/anthropic/v1/models"
    assert first.headers["anthropic-version"] == ANTHROPIC_VERSION
    assert "x-api-key" in first.headers
    assert first.auth_ok is True


async def test_anthropic_wrong_key_is_invalid_credentials(fresh: FakeProvider) -> None:
    result = await probe(AiType.ANTHROPIC, fresh.endpoint("anthropic"), None, "sk-ant-wrong")

    assert result == ProbeResult(False, INVALID_CREDENTIALS)


async def test_aws_is_signed_with_sigv4(fresh: FakeProvider) -> None:
    result = await probe(AiType.AWS, fresh.endpoint("bedrock"), AWS_KEY_ID, AWS_SECRET)

    assert result == ProbeResult(
        True, f"Validated: {len(BEDROCK_MODELS)} models available at {host_of(fresh)}"
    )
    signed, wrong = fresh.requests_for("bedrock")
    assert signed.path == "/bedrock/foundation-models"
    assert signed.auth_scheme == "AWS4-HMAC-SHA256"
    assert signed.sigv4_scope is not None
    assert signed.sigv4_scope.endswith("/us-east-1/bedrock/aws4_request")
    assert {"host", "x-amz-date"} <= set(signed.sigv4_signed_headers)
    assert signed.auth_ok is True  # the stand-in recomputed the signature with the secret
    assert wrong.auth_ok is False


async def test_aws_wrong_secret_is_invalid_credentials(fresh: FakeProvider) -> None:
    result = await probe(AiType.AWS, fresh.endpoint("bedrock"), AWS_KEY_ID, "not-the-secret")

    assert result == ProbeResult(False, "Validation failed: invalid credentials (403 Forbidden)")


@pytest.mark.parametrize(("key", "secret"), [(None, AWS_SECRET), (AWS_KEY_ID, None)])
async def test_aws_needs_both_halves_of_the_key(
    fresh: FakeProvider, key: str | None, secret: str | None
) -> None:
    result = await probe(AiType.AWS, fresh.endpoint("bedrock"), key, secret)

    assert result.success is False
    assert result.message.startswith("Validation failed: AWS needs the access key id (key)")
    assert fresh.requests_for("bedrock") == []


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://bedrock.eu-west-3.amazonaws.com", "eu-west-3"),
        ("https://bedrock-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://bedrock.us-east-1.amazonaws.com/", "us-east-1"),
        ("http://127.0.0.1:8080/bedrock", "us-east-1"),
    ],
)
def test_bedrock_region_comes_from_the_host(endpoint: str, region: str) -> None:
    assert bedrock_region(endpoint) == region


@pytest.mark.parametrize(
    ("endpoint", "control"),
    [
        (
            "https://bedrock-runtime.eu-west-3.amazonaws.com",
            "https://bedrock.eu-west-3.amazonaws.com",
        ),
        (
            "https://bedrock-runtime-fips.us-east-1.amazonaws.com/",
            "https://bedrock-fips.us-east-1.amazonaws.com",
        ),
        ("https://bedrock.ap-south-1.amazonaws.com", "https://bedrock.ap-south-1.amazonaws.com"),
        ("http://127.0.0.1:8080/bedrock", "http://127.0.0.1:8080/bedrock"),
    ],
)
def test_model_list_of_a_runtime_endpoint_comes_from_the_control_host(
    endpoint: str, control: str
) -> None:
    assert bedrock_control_endpoint(endpoint) == control


# ---------------------------------------------------------------------------------------------
# Secrets never leak into messages
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ai_type", "scenario", "params", "version"),
    [
        (AiType.OPENAI, "ok", (), "v1"),
        (AiType.OPENAI, "echo", (), "v1"),
        (AiType.OTHER, "echo", (), "v1"),
        (AiType.OPENAI, "status", (500,), "v1"),
        (AiType.OPENAI, "html", (), "v1"),
        (AiType.OPENAI, "redirect", (), "v1"),
        (AiType.OPENAI, "hang", (), "v1"),
        (AiType.GOOGLE, "google", (), "v1beta"),
        (AiType.GOOGLE, "echo", (), "v1"),
        (AiType.ANTHROPIC, "anthropic", (), "v1"),
        (AiType.ANTHROPIC, "echo", (), "v1"),
        (AiType.AWS, "bedrock", (), ""),
        (AiType.AWS, "echo", (), ""),
    ],
)
async def test_canary_secret_never_appears_in_a_message(
    fresh: FakeProvider,
    canary: str,
    ai_type: AiType,
    scenario: str,
    params: tuple[object, ...],
    version: str,
    probe_timeout: float,
) -> None:
    endpoint = fresh.endpoint(scenario, *params, version=version)
    key = "AKIACANARYKEYID00001" if ai_type is AiType.AWS else None

    timeout = 0.3 if scenario == "hang" else probe_timeout  # only "hang" is meant to time out
    result = await probe(ai_type, endpoint, key, canary, timeout=timeout)

    assert result.success is False
    assert canary not in result.message
    assert canary[:10] not in result.message  # nor a partial echo such as "sk-CANARY-***"
    if key:
        assert key not in result.message
    if scenario == "echo":
        assert "[redacted]" in result.message


def test_importing_probes_loads_no_heavy_module() -> None:
    code = "import json, sys, flashback_tui.server.probes; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout))

    for heavy in ("botocore", "httpx", "textual", "fastapi"):
        assert heavy not in loaded, heavy


async def test_an_endpoint_seen_rejecting_a_wrong_key_is_not_asked_again(
    fresh: FakeProvider,
) -> None:
    first = await probe(AiType.OPENAI, fresh.endpoint("ok"), None, KEY)
    second = await probe(AiType.OPENAI, fresh.endpoint("ok"), None, KEY)

    assert first == second and first.success
    assert [r.auth_ok for r in fresh.requests_for("ok")] == [True, False, True]


async def test_an_endpoint_accepting_any_key_is_checked_every_time(fresh: FakeProvider) -> None:
    for _ in range(2):
        result = await probe(AiType.OPENAI, fresh.endpoint("anykey"), None, KEY)
        assert NOT_ENFORCED in result.message
    assert len(fresh.requests_for("anykey")) == 4
