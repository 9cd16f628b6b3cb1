"""Validation probes: one cheap, token-free request per provider type.

A probe lists the provider's models (never a completion), so it proves that the endpoint
answers and accepts the credentials without spending tokens:

- OPENAI, OTHER: ``GET {endpoint}/models`` with ``Authorization: Bearer <secret>`` (OTHER may
  have no secret: keyless local endpoints such as Ollama are probed without auth).
- ANTHROPIC: ``GET {endpoint}/models`` with ``x-api-key`` and ``anthropic-version``.
- GOOGLE: ``GET {endpoint}/models`` with the ``x-goog-api-key`` header, never ``?key=``.
- AWS: Bedrock ``GET {endpoint}/foundation-models`` signed with SigV4 (botocore), ``key`` being
  the access key id and ``secret`` the secret access key.

After a successful probe a second one with a random, certainly wrong key tells whether the
endpoint enforces authentication at all; an endpoint seen rejecting such a key is remembered
for a few minutes, so validating many configurations of one endpoint does not repeat it.
Every outcome becomes a one-line message that never contains the key or the secret, not even
when a provider echoes them in an error body. An endpoint that the endpoint policy refuses
(:mod:`~flashback_tui.server.egress`) fails validation with the rule that refused it.
"""

from __future__ import annotations

import asyncio
import json
import secrets as token_source
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from flashback_tui import USER_AGENT
from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType, check_secret_text
from flashback_tui.server.bedrock import bedrock_control_endpoint, sign_bedrock
from flashback_tui.server.bedrock import bedrock_region as bedrock_region  # re-exported
from flashback_tui.server.egress import EndpointRefused
from flashback_tui.server.probe_models import ProbedModel, model_list, parse_models
from flashback_tui.server.scrub import Scrubber as _Scrubber  # the gateway's import

if TYPE_CHECKING:
    import httpx

ANTHROPIC_VERSION = "2023-06-01"
#: A model list larger than this is not read further (the probe only needs to parse it).
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of validating one configuration: success and a human-readable message.

    ``models`` is the provider's listing on success (its first page), else empty; it takes
    no part in comparisons, which are about the outcome.
    """

    success: bool
    message: str
    models: tuple[ProbedModel, ...] = field(default=(), compare=False)


class _Kind(Enum):
    """How one probe request ended."""

    MODELS = "models"  # 2xx with a model list
    NOT_MODELS = "not-models"  # 2xx, but the body is not a model list
    REJECTED = "rejected"  # the provider refused the credentials
    STATUS = "status"  # any other HTTP status
    UNREACHABLE = "unreachable"  # could not connect (refused, DNS, TLS)
    REFUSED = "refused"  # the endpoint policy refused the host or its address
    BROKEN = "broken"  # connected, but the exchange failed
    TIMEOUT = "timeout"  # no answer in time


@dataclass(frozen=True)
class _Answer:
    """One probe request's outcome; ``detail`` is already scrubbed of secrets."""

    kind: _Kind
    status: int | None = None
    detail: str = ""
    models: int = 0
    more: bool = False
    listed: tuple[ProbedModel, ...] = ()


@dataclass(frozen=True)
class _Target:
    """Where and how to send one probe."""

    ai_type: AiType
    endpoint: str
    host: str
    timeout: float
    deadline: float  # event-loop time by which the whole probe must be done


async def probe(
    ai_type: AiType | str,
    endpoint: str | None,
    key: Any,
    secret: Any,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - the interface callers use; a deadline inside
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeResult:
    """Validate one configuration against its provider; never raises for provider failures.

    ``key`` and ``secret`` may be ``str``, ``SecretStr`` or None. ``timeout`` bounds the whole
    probe, both requests included. ``transport`` is reused when given (its connection pool
    serves many concurrent probes; see :class:`~flashback_tui.server.upstream.
    UpstreamTransport`); otherwise a short-lived one is used, with the endpoint policy the
    environment names. Redirects are never followed.
    """
    ai_type = AiType(ai_type)
    key, secret = _reveal(key), _reveal(secret)
    base = endpoint or DEFAULT_ENDPOINTS.get(ai_type)
    if not base:
        return ProbeResult(False, "Validation failed: no endpoint is set for this configuration")
    missing = _missing_credentials(ai_type, key, secret)
    if missing:
        return ProbeResult(False, f"Validation failed: {missing}")
    if any(value and check_secret_text(value) for value in (key, secret)):
        return ProbeResult(False, "Validation failed: the stored key or secret cannot be sent"
                                  " to the provider (it is not printable ASCII without spaces);"
                                  " rotate it")
    if ai_type is AiType.AWS:
        base = bedrock_control_endpoint(base)
    deadline = asyncio.get_running_loop().time() + timeout
    target = _Target(ai_type, base, _display_host(base), timeout, deadline)
    wrong_key, wrong_secret = _wrong_credentials(ai_type)
    scrubber = _Scrubber([key, secret, wrong_key, wrong_secret])

    from flashback_tui.server.upstream import UpstreamTransport

    owned = transport is None
    http = transport or UpstreamTransport()
    try:
        return await _probe_pair(http, target, (key, secret), (wrong_key, wrong_secret), scrubber)
    finally:
        if owned:
            await http.aclose()


async def _probe_pair(
    http: httpx.AsyncBaseTransport,
    target: _Target,
    credentials: tuple[str | None, str | None],
    wrong: tuple[str, str],
    scrubber: _Scrubber,
) -> ProbeResult:
    """The real probe then, unless the endpoint was seen rejecting one lately, a wrong-key one."""
    first = await _send_probe(http, target, *credentials, scrubber)
    if first.kind is not _Kind.MODELS:
        return ProbeResult(False, _failure_message(first, target))
    cache_key = (target.ai_type.value, target.endpoint)
    if _auth_enforcement.recently_enforced(cache_key):
        second = _REJECTED_BEFORE
    else:
        second = await _send_probe(http, target, *wrong, scrubber)
    if second.kind is _Kind.REFUSED:  # the name now resolves to a refused address
        return ProbeResult(False, _failure_message(second, target))
    if second.kind is _Kind.REJECTED:
        _auth_enforcement.remember(cache_key)
    return ProbeResult(True, _success_message(first, second, target, keyless=not credentials[1]),
                       first.listed)


#: Stands in for a wrong-key probe answered "rejected" a moment ago.
_REJECTED_BEFORE = _Answer(_Kind.REJECTED)


class _AuthEnforcementMemory:
    """Endpoints seen rejecting a wrong key lately, so repeated validations skip that probe.

    Whether an endpoint enforces authentication is a property of the endpoint, not of the
    configuration's key; remembering a "yes" for a few minutes halves the provider calls (and
    the time) of validating many configurations of one endpoint. A "no" is never remembered:
    such endpoints are re-checked every time.
    """

    TTL_SECONDS = 300.0
    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}

    def recently_enforced(self, key: tuple[str, str]) -> bool:
        until = self._until.get(key)
        return until is not None and until > time.monotonic()

    def remember(self, key: tuple[str, str]) -> None:
        if len(self._until) >= self.MAX_ENTRIES:
            self._until.clear()
        self._until[key] = time.monotonic() + self.TTL_SECONDS

    def forget_all(self) -> None:
        self._until.clear()


_auth_enforcement = _AuthEnforcementMemory()


def forget_auth_enforcement() -> None:
    """Forget which endpoints were seen rejecting wrong keys (the next probes ask again)."""
    _auth_enforcement.forget_all()


# ---------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------


def _reveal(value: Any) -> str | None:
    """The plain text of a str or SecretStr; None for None or blank."""
    if value is None:
        return None
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return text.strip() or None


def _missing_credentials(ai_type: AiType, key: str | None, secret: str | None) -> str | None:
    """Why the stored credentials cannot be probed at all, or None."""
    if ai_type is AiType.AWS and not (key and secret):
        return (
            "AWS needs the access key id (key) and the secret access key (secret); "
            f"{'the secret access key' if key else 'the access key id'} is missing"
        )
    if ai_type in (AiType.OPENAI, AiType.ANTHROPIC, AiType.GOOGLE) and not secret:
        return "no API key (secret) is stored for this configuration"
    return None


def _wrong_credentials(ai_type: AiType) -> tuple[str, str]:
    """A random key pair that no provider can know: (key, secret)."""
    if ai_type is AiType.AWS:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        key_id = "AKIA" + "".join(token_source.choice(alphabet) for _ in range(16))
        return key_id, token_source.token_urlsafe(30)
    return "", "fb-invalid-" + token_source.token_hex(20)


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def _join(endpoint: str, suffix: str) -> str:
    """``endpoint`` with ``/suffix`` appended to its path (query and host untouched)."""
    parts = urlsplit(endpoint)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + suffix))


async def _request_for(
    target: _Target, key: str | None, secret: str | None
) -> tuple[str, dict[str, str]]:
    """The URL and headers of one probe request."""
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    ai_type = target.ai_type
    if ai_type is AiType.AWS:
        url = _join(target.endpoint, "foundation-models")
        signed = await asyncio.to_thread(sign_bedrock, url, headers, key or "", secret or "")
        return url, signed
    url = _join(target.endpoint, "models")
    if ai_type is AiType.ANTHROPIC:
        headers |= {"x-api-key": secret or "", "anthropic-version": ANTHROPIC_VERSION}
    elif ai_type is AiType.GOOGLE:
        headers["x-goog-api-key"] = secret or ""
    elif secret:
        headers["Authorization"] = f"Bearer {secret}"
    return url, headers


async def _send_probe(
    http: httpx.AsyncBaseTransport,
    target: _Target,
    key: str | None,
    secret: str | None,
    scrubber: _Scrubber,
) -> _Answer:
    """Send one probe and classify its outcome; transport failures become answers."""
    import httpx

    url, headers = await _request_for(target, key, secret)
    try:
        async with asyncio.timeout_at(target.deadline):
            remaining = max(target.deadline - asyncio.get_running_loop().time(), 0.001)
            request = httpx.Request("GET", url, headers=headers, extensions={"timeout": {
                "connect": remaining, "read": remaining, "write": remaining, "pool": remaining,
            }})
            response = await http.handle_async_request(request)
            response.request = request
            try:
                body = await _read_capped(response)
            finally:
                await response.aclose()
    except EndpointRefused as refused:  # before ConnectError: the transport raises both
        return _Answer(_Kind.REFUSED, detail=refused.reason)
    except (TimeoutError, httpx.TimeoutException):
        return _Answer(_Kind.TIMEOUT)
    except httpx.ConnectError as exc:
        return _Answer(_Kind.UNREACHABLE, detail=describe_transport_error(exc))
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        return _Answer(_Kind.BROKEN, detail="the endpoint is not a valid http(s) URL")
    except httpx.HTTPError as exc:
        return _Answer(_Kind.BROKEN, detail=describe_transport_error(exc))
    answer = _classify(response, body)
    return replace(answer, detail=scrubber.scrub(answer.detail))


async def _read_capped(response: httpx.Response) -> bytes:
    """The response body, at most MAX_BODY_BYTES of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def describe_transport_error(exc: BaseException) -> str:
    """A short, secret-free reason for a failed connection, from the exception chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, EndpointRefused):
            return current.reason
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"TLS error: {current.verify_message or 'certificate verify failed'}"
        if isinstance(current, ssl.SSLError):
            return f"TLS error: {current.reason or 'handshake failed'}"
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        current = current.__cause__ or current.__context__
    return _default_transport_reason(exc)


def _default_transport_reason(exc: BaseException) -> str:
    """A fallback reason from the exception's type (httpx messages may hold URLs)."""
    name = type(exc).__name__
    reasons = {
        "ConnectError": "could not connect",
        "RemoteProtocolError": "the server closed the connection or broke the HTTP protocol",
        "ReadError": "the connection broke while reading the answer",
        "WriteError": "the connection broke while sending the request",
        "ProxyError": "the proxy refused the connection",
    }
    return reasons.get(name, f"request failed ({name})")


# ---------------------------------------------------------------------------------------------
# Classifying answers
# ---------------------------------------------------------------------------------------------


def _classify(response: httpx.Response, body: bytes) -> _Answer:
    """Turn a provider's HTTP answer into an _Answer (its detail not yet scrubbed)."""
    status = response.status_code
    payload = _json_or_none(body)
    if 200 <= status < 300:
        models = model_list(payload)
        if models is None:
            return _Answer(_Kind.NOT_MODELS, status)
        more = isinstance(payload, dict) and bool(
            payload.get("has_more") or payload.get("nextPageToken") or payload.get("nextToken")
        )
        return _Answer(_Kind.MODELS, status, models=len(models), more=more,
                       listed=parse_models(models))
    if status in (401, 403) or (status == 400 and b"API_KEY_INVALID" in body):
        reason = "API_KEY_INVALID" if status == 400 else _phrase(response)
        return _Answer(_Kind.REJECTED, status, detail=reason)
    if 300 <= status < 400:
        location = urlsplit(response.headers.get("location", ""))
        where = f"a redirect to {location.hostname}" if location.hostname else "a redirect"
        return _Answer(_Kind.STATUS, status, detail=f"{_phrase(response)}; {where}, not followed")
    detail = _error_text(payload, body)
    reason = _phrase(response)
    return _Answer(_Kind.STATUS, status, detail=f"{reason}: {detail}" if detail else reason)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _phrase(response: httpx.Response) -> str:
    """``401 Unauthorized``: the status and its reason phrase."""
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason_phrase or ""
    return f"{response.status_code} {phrase}".strip()


def _error_text(payload: Any, body: bytes) -> str:
    """The provider's error message, if its body has one (unscrubbed, not shortened)."""
    candidate: Any = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            candidate = error.get("message")
        elif isinstance(error, str):
            candidate = error
        candidate = candidate or payload.get("message") or payload.get("detail")
    elif payload is None and body:
        text = body.decode("utf-8", "replace")
        if not text.lstrip().startswith("<"):  # an HTML page says nothing useful
            candidate = text
    return " ".join(candidate.split()) if isinstance(candidate, str) else ""


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


def _display_host(endpoint: str) -> str:
    """``host[:port]`` of an endpoint, without any user info, path or query."""
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return "the endpoint"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


def _failure_message(answer: _Answer, target: _Target) -> str:
    """The message of a probe that did not prove the configuration."""
    if answer.kind is _Kind.REJECTED:
        return f"Validation failed: invalid credentials ({answer.detail})"
    if answer.kind is _Kind.TIMEOUT:
        return f"Validation failed: no answer from {target.host} within {target.timeout:g} s"
    if answer.kind is _Kind.UNREACHABLE:
        return f"Validation failed: endpoint unreachable ({answer.detail})"
    if answer.kind is _Kind.REFUSED:
        return f"Validation failed: {answer.detail}"
    if answer.kind is _Kind.BROKEN:
        return f"Validation failed: request to {target.host} failed ({answer.detail})"
    if answer.kind is _Kind.NOT_MODELS:
        return (
            f"Validation failed: {target.host} answered {answer.status} but not with a model "
            "list; is this the provider's API endpoint?"
        )
    if answer.status == 404:
        return (
            f"Validation failed: provider answered {answer.detail.rstrip('.')} "
            "(no model list at this endpoint; check its path)"
        )
    return f"Validation failed: provider answered {answer.detail}"


def _success_message(first: _Answer, second: _Answer, target: _Target, *, keyless: bool) -> str:
    """The message of a successful probe, plus what the wrong-key probe revealed."""
    count = f"{first.models}{'+' if first.more else ''}"
    noun = "model" if count == "1" else "models"
    credentials = " without credentials" if keyless else ""
    message = f"Validated{credentials}: {count} {noun} available at {target.host}"
    if second.kind in (_Kind.MODELS, _Kind.NOT_MODELS):
        return (
            f"{message}, but the endpoint accepted an invalid key too: "
            "it does not enforce authentication"
        )
    if second.kind is not _Kind.REJECTED:
        outcome = _failure_message(second, target).removeprefix("Validation failed: ")
        return f"{message} (could not check that it rejects invalid keys: {outcome})"
    return message
