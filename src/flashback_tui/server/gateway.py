"""The OpenAI-compatible gateway: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Applications call it like OpenAI (``base_url=<server>/v1``) with a repository AI API key
secret as ``Authorization: Bearer <secret>``. A call goes to the repository's linked
configuration of the key's ``aiType`` with that configuration's decrypted secret:

========== ===================================================== ==========================
aiType     upstream                                              credentials
========== ===================================================== ==========================
OPENAI,    ``{endpoint}/chat/completions``, ``{endpoint}/models`` ``Authorization: Bearer``
OTHER
ANTHROPIC  ``{endpoint}/chat/completions`` (Claude's OpenAI SDK    ``x-api-key`` +
           compatibility), ``{endpoint}/models``                 ``anthropic-version``
GOOGLE     ``{endpoint}/openai/chat/completions``,               ``Authorization: Bearer``
           ``{endpoint}/openai/models``
AWS        not supported: 501 with an OpenAI-style error
========== ===================================================== ==========================

Before forwarding, the prompt is checked against the workspace's policies
(:mod:`flashback_tui.server.policies`): a blocking match answers 403 and is never forwarded.
Streams are relayed event by event; the gateway always asks the provider for usage
(``stream_options.include_usage``) and drops that extra chunk when the caller did not ask for
it. A reader task owns the upstream stream, so a client that disconnects mid-stream does not
stop the accounting: the reader drains the provider's answer (for at most
``DRAIN_SECONDS``) and records the call with the provider's usage. Errors are OpenAI-style
``{"error": {"message", "type", "code"}}`` bodies; provider errors keep their status and
never carry the provider secret. Every chat call is counted (:mod:`.accounting`); model
listings are not.

Hot path: key routes (key digest -> configuration and its opened secret) and compiled
policies are cached in memory for ``CACHE_TTL`` seconds. Every change made through this
server (any POST/PUT/DELETE outside ``/v1``, e.g. revoking a key or updating a configuration)
clears both caches before its response is sent, so a revoked key is refused at once. Usage is
written to SQLite off the request path (see :mod:`.accounting`). One pooled transport
(:class:`~flashback_tui.server.upstream.UpstreamTransport`) serves every upstream call: the
gateway sends through it rather than an ``httpx.AsyncClient``, whose cookie, auth, redirect
and hook layers it does not need and which cost about 0.6 ms of CPU per call; proxies come
from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flashback_tui.api.models import AiType
from flashback_tui.server.accounting import (
    CallUsage,
    UsageAccumulator,
    choice_texts,
    conversation_of,
    count_tokens,
    message_texts,
)
from flashback_tui.server.crypto import CryptoError
from flashback_tui.server.policies import CompiledPolicy, evaluate
from flashback_tui.server.store import policies as policy_store
from flashback_tui.server.store import repos as repo_store

if TYPE_CHECKING:
    import httpx

    from flashback_tui.server.state import PlatformState

logger = logging.getLogger("flashback_tui.server.gateway")

#: Seconds a key route or a workspace's compiled policies stay cached.
CACHE_TTL = 10.0
#: After a client disconnects mid-stream, how long the provider's answer is still read.
DRAIN_SECONDS = 30.0
#: Upstream timeouts in seconds (a stream may take long between two events).
UPSTREAM_TIMEOUTS = {"connect": 10.0, "read": 300.0, "write": 60.0, "pool": 30.0}
#: At shutdown, how long open streams may take to finish before they are cut.
SHUTDOWN_GRACE = 5.0
ANTHROPIC_VERSION = "2023-06-01"
#: Reads of usage that first write the pending counts, so they see every finished call.
USAGE_READ_PATHS = frozenset({"/ai/llm/stats", "/aistats/minute", "/aistats/daily"})
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def openai_error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    """An OpenAI-style error answer."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _scrubber(values: list[str | None]) -> Any:
    from flashback_tui.server.probes import _Scrubber  # the one home of secret scrubbing

    return _Scrubber(values)


# ---------------------------------------------------------------------------------------------
# Routing a key to its upstream
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """Where the calls of one key go, with the configuration's credentials opened."""

    route: repo_store.KeyRoute
    chat_url: str
    models_url: str
    host: str

    def headers(self) -> dict[str, str]:
        """Request headers with the provider's credentials (built per call, never logged)."""
        creds = self.route.credentials
        secret = creds.secret.get_secret_value() if creds and creds.secret else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.route.ai_type == AiType.ANTHROPIC:
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if secret:
                headers["x-api-key"] = secret
        elif secret:
            headers["Authorization"] = f"Bearer {secret}"
        return headers

    def scrub(self, text: str) -> str:
        """``text`` without the configuration's key or secret."""
        creds = self.route.credentials
        values = [creds.key.get_secret_value() if creds and creds.key else None,
                  creds.secret.get_secret_value() if creds and creds.secret else None]
        return _scrubber(values).scrub(text)


def upstream_for(route: repo_store.KeyRoute) -> Upstream | JSONResponse:
    """The upstream of a key route, or the error to answer with."""
    if route.credentials is None or route.llm_id is None:
        return openai_error(400, f"The repository of this key has no {route.ai_type.value}"
                            " configuration linked.", "invalid_request_error",
                            "no_configuration")
    if route.ai_type == AiType.AWS:
        return openai_error(501, "AWS Bedrock configurations cannot be reached through the"
                            " gateway; link an OPENAI, ANTHROPIC, GOOGLE or OTHER"
                            " configuration.", "invalid_request_error", "unsupported_provider")
    base = route.credentials.endpoint.rstrip("/")
    if route.ai_type == AiType.GOOGLE:
        base += "/openai"
    return Upstream(route=route, chat_url=f"{base}/chat/completions",
                    models_url=f"{base}/models", host=urlsplit(base).netloc)


class TimedCache:
    """A small in-memory cache with a TTL, cleared as a whole on any change.

    ``generation`` protects against a lookup that started before a change and finished after
    the clear: its result is not stored.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        """The cached value, or None if absent or expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: Any, generation: int) -> None:
        """Store ``value`` unless the cache was cleared since ``generation`` was read."""
        if generation == self.generation:
            self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.generation += 1


# ---------------------------------------------------------------------------------------------
# Streaming relay
# ---------------------------------------------------------------------------------------------


class StreamRelay:
    """Reads a provider's event stream in its own task and hands events to the client.

    The reader counts as it goes and records the call when the upstream stream ends, however
    the client behaves.
    """

    def __init__(self, response: httpx.Response, usage: CallUsage, *, include_usage: bool,
                 finish: Callable[[CallUsage], None]) -> None:
        self.response = response
        self.usage = usage
        self.include_usage = include_usage
        self.finish = finish
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.client_gone = False
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        self._texts: list[str] = []

    async def pump(self) -> None:
        """Read the upstream stream to its end, relaying and counting each event."""
        try:
            pending = b""
            async for chunk in self.response.aiter_bytes():
                pending += chunk
                if b"\r" in pending:  # CRLF line ends (a CR kept at the end pairs up later)
                    pending = pending.replace(b"\r\n", b"\n")
                while (end := pending.find(b"\n\n")) >= 0:
                    event, pending = pending[:end], pending[end + 2:]
                    if event:
                        self._event(event)
            if pending.strip():
                self._event(pending.strip())
        except Exception as exc:  # the provider broke off; the client sees the stream end
            logger.warning("provider stream ended early: %s", type(exc).__name__)
        finally:
            self.finished = True
            self.queue.put_nowait(None)
            self.usage.tokens_out = count_tokens("".join(self._texts))
            self.finish(self.usage)
            with contextlib.suppress(BaseException):
                await self.response.aclose()

    def _event(self, event: bytes) -> None:
        """Count one server-sent event and queue it for the client (unless it is dropped)."""
        forward = True
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if not data.startswith(b"{"):
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            if not isinstance(chunk, dict):
                continue
            if chunk.get("usage"):
                self.usage.add_provider_usage(chunk["usage"])
                if not self.include_usage and not chunk.get("choices"):
                    forward = False
            if isinstance(chunk.get("model"), str):
                self.usage.llm_model = chunk["model"]
            self._texts.extend(choice_texts(chunk.get("choices"), "delta"))
        if forward and not self.client_gone:
            self.queue.put_nowait(event + b"\n\n")

    async def batches(self) -> AsyncIterator[tuple[bytes, bool]]:
        """``(events, last)`` for the client, until the upstream stream ends.

        Each event is passed on as soon as it arrives; events that are already waiting
        when the client is ready go out together, in one write. ``last`` is True when the
        end of the stream was already known, so that write can also close the response.
        """
        while (item := await self.queue.get()) is not None:
            batch = [item]
            while not self.queue.empty():
                following = self.queue.get_nowait()
                if following is None:
                    yield b"".join(batch), True
                    return
                batch.append(following)
            yield b"".join(batch), False
        yield b"", True

    def client_left(self) -> None:
        """The client's response is over: stop queueing, bound the remaining drain."""
        if self.finished or self.task is None:
            return
        self.client_gone = True
        asyncio.get_running_loop().call_later(DRAIN_SECONDS, self.task.cancel)


class RelayResponse(StreamingResponse):
    """A streaming response that tells its relay when the client side is over."""

    def __init__(self, relay: StreamRelay) -> None:
        self.relay = relay
        self.batches = relay.batches()
        super().__init__(self._bodies(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _bodies(self) -> AsyncIterator[bytes]:  # the base class wants an iterator
        async for body, _ in self.batches:
            yield body

    async def stream_response(self, send: Send) -> None:
        """Like the base class, but the last batch also ends the body (one write fewer)."""
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        async for body, last in self.batches:
            await send({"type": "http.response.body", "body": body, "more_body": not last})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.relay.client_left()


# ---------------------------------------------------------------------------------------------
# The gateway
# ---------------------------------------------------------------------------------------------


class Gateway:
    """The gateway of one app: caches, the upstream client, the usage accumulator."""

    def __init__(self) -> None:
        self.routes = TimedCache(CACHE_TTL)
        self.policies = TimedCache(CACHE_TTL)
        self.state: PlatformState | None = None
        self.transport: httpx.AsyncBaseTransport | None = None
        self.accumulator: UsageAccumulator | None = None
        self._relays: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, state: PlatformState) -> None:
        """Start writing usage in the background (the upstream pool opens on first use)."""
        self.state = state
        self.accumulator = UsageAccumulator.for_database(state.db.conn)
        self._flusher = asyncio.create_task(self.accumulator.run_periodic())

    def _upstream(self) -> httpx.AsyncBaseTransport:
        """The pooled upstream transport, created on the first call (httpx loads then, not
        while the platform starts); proxies come from the environment."""
        if self.transport is None:
            import httpx

            from flashback_tui.server.upstream import UpstreamTransport

            self.transport = UpstreamTransport(
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        return self.transport

    async def stop(self) -> None:
        """Let open streams finish (briefly), write every pending count, close the client."""
        if self._relays:
            _, late = await asyncio.wait(set(self._relays), timeout=SHUTDOWN_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self.accumulator is not None:
            try:
                await self.accumulator.flush()
            except Exception as exc:
                logger.error("cannot write gateway usage at shutdown: %s", type(exc).__name__)
        if self.transport is not None:
            await self.transport.aclose()

    async def send(self, method: str, url: str, headers: dict[str, str],
                   content: bytes | None = None, *, stream: bool = False) -> httpx.Response:
        """One upstream request over the pooled transport (redirects are not followed).

        Unless ``stream``, the body is read and the connection returned to the pool.
        """
        import httpx

        request = httpx.Request(method, url, headers=headers, content=content,
                                extensions={"timeout": UPSTREAM_TIMEOUTS})
        response = await self._upstream().handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    def invalidate(self) -> None:
        """Forget cached key routes and policies (after any change)."""
        self.routes.clear()
        self.policies.clear()

    async def flush_usage(self) -> None:
        """Write the pending usage now."""
        if self.accumulator is not None:
            await self.accumulator.flush()

    # -- lookups ------------------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Upstream | JSONResponse:
        """The upstream of the request's key, or a 401/400/501/500 answer."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return openai_error(401, "You didn't provide an API key. Send a repository AI API"
                                " key as 'Authorization: Bearer <secret>'.",
                                "invalid_request_error", "invalid_api_key")
        digest = repo_store.secret_digest(token)
        cached = self.routes.get(digest)
        if cached is not None:
            return cached
        generation = self.routes.generation
        try:
            route = await run_in_threadpool(self._route, digest)
        except CryptoError:
            logger.error("cannot open the secret of a configuration for the gateway")
            return openai_error(500, "A stored secret cannot be decrypted with the current"
                                " keys.", "server_error", "sealed_secret")
        if route is None:
            return openai_error(401, "Incorrect API key provided: it is unknown or revoked.",
                                "invalid_request_error", "invalid_api_key")
        upstream = upstream_for(route)
        self.routes.put(digest, upstream, generation)
        return upstream

    def _route(self, digest: str) -> repo_store.KeyRoute | None:
        assert self.state is not None
        return repo_store.route_for_digest(self.state.db.conn(), self.state.keyring, digest)

    async def workspace_policies(self, workspace_id: str) -> list[CompiledPolicy]:
        """The workspace's compiled policies (cached)."""
        cached = self.policies.get(workspace_id)
        if cached is not None:
            return cached
        generation = self.policies.generation
        assert self.state is not None
        db = self.state.db
        compiled = await run_in_threadpool(
            lambda: policy_store.compiled_policies(db.conn(), workspace_id))
        self.policies.put(workspace_id, compiled, generation)
        return compiled

    # -- accounting -----------------------------------------------------------------------------

    def _record(self, usage: CallUsage, started: float) -> None:
        usage.latency_ms = (time.perf_counter() - started) * 1000
        if self.accumulator is not None:
            self.accumulator.add(usage)

    # -- endpoints ------------------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> Response:
        """Check, forward, relay and count one chat completion."""
        started = time.perf_counter()
        upstream = await self.authenticate(request)
        if isinstance(upstream, JSONResponse):
            return upstream
        try:
            body = await request.body()
        except StarletteHTTPException as exc:  # e.g. a chunked body over the size limit
            return openai_error(exc.status_code, str(exc.detail), "invalid_request_error",
                                "invalid_body")
        payload = _chat_payload(body)
        if isinstance(payload, JSONResponse):
            return payload
        route = upstream.route
        assert route.llm_id is not None
        texts = message_texts(payload["messages"])
        model = payload.get("model")
        usage = CallUsage(ai_llm_id=route.llm_id, repo_id=route.repo_id,
                          repo_ai_api_key_id=route.key_id, llm_type=route.ai_type.value,
                          host=upstream.host, llm_model=model if isinstance(model, str) else None,
                          tokens_in=count_tokens("\n".join(texts)),
                          conversation=conversation_of(route.key_id, payload["messages"]),
                          user_uuid=_user_of(payload))
        policies = await self.workspace_policies(route.workspace_id)
        if policies:
            refusal = self._apply_policies(policies, texts, usage)
            if refusal is not None:
                self._record(usage, started)
                return refusal
        if payload.get("stream") is True:
            return await self._stream(upstream, payload, usage, started)
        return await self._plain(upstream, body, usage, started)

    @staticmethod
    def _apply_policies(policies: list[CompiledPolicy], texts: list[str], usage: CallUsage
                        ) -> JSONResponse | None:
        verdict = evaluate(policies, "\n".join(texts))
        usage.policy_violations = verdict.violations
        usage.num_alerts = verdict.alerts
        usage.severities = {risk: verdict.severity(risk) for risk in ("LOW", "MEDIUM", "HIGH")}
        blocking = verdict.blocking_policy
        if blocking is None:
            return None
        usage.num_blocks = 1
        return openai_error(403, f"The request was blocked by the workspace policy"
                            f" {blocking.name!r}.", "policy_violation", "policy_blocked")

    async def _plain(self, upstream: Upstream, body: bytes, usage: CallUsage,
                     started: float) -> Response:
        import httpx

        try:
            try:
                response = await self.send("POST", upstream.chat_url, upstream.headers(), body)
            except httpx.HTTPError as exc:
                return _unreachable(exc, upstream)
            if not 200 <= response.status_code < 300:
                return provider_error(response.status_code, response.content, upstream)
            try:
                answer = json.loads(response.content)
            except ValueError:
                answer = None
            if isinstance(answer, dict):
                usage.add_provider_usage(answer.get("usage"))
                usage.tokens_out = count_tokens(
                    "".join(choice_texts(answer.get("choices"), "message")))
                if isinstance(answer.get("model"), str):
                    usage.llm_model = answer["model"]
            return Response(response.content, status_code=response.status_code,
                            media_type=response.headers.get("content-type",
                                                            "application/json"))
        finally:
            self._record(usage, started)

    async def _stream(self, upstream: Upstream, payload: dict[str, Any], usage: CallUsage,
                      started: float) -> Response:
        import httpx

        options = payload.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        payload["stream_options"] = {**(options if isinstance(options, dict) else {}),
                                     "include_usage": True}
        try:
            response = await self.send("POST", upstream.chat_url, upstream.headers(),
                                       json.dumps(payload).encode(), stream=True)
        except httpx.HTTPError as exc:
            self._record(usage, started)
            return _unreachable(exc, upstream)
        if not 200 <= response.status_code < 300:
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
                self._record(usage, started)
            return provider_error(response.status_code, body, upstream)
        relay = StreamRelay(response, usage, include_usage=include_usage,
                            finish=lambda u: self._record(u, started))
        relay.task = asyncio.create_task(relay.pump())
        self._relays.add(relay.task)
        relay.task.add_done_callback(self._relays.discard)
        return RelayResponse(relay)

    async def models(self, request: Request) -> Response:
        """The provider's model list, in OpenAI's shape."""
        import httpx

        upstream = await self.authenticate(request)
        if isinstance(upstream, JSONResponse):
            return upstream
        try:
            response = await self.send("GET", upstream.models_url, upstream.headers())
        except httpx.HTTPError as exc:
            return _unreachable(exc, upstream)
        if not 200 <= response.status_code < 300:
            return provider_error(response.status_code, response.content, upstream)
        if upstream.route.ai_type == AiType.ANTHROPIC:
            return JSONResponse(_anthropic_models(response.content))
        return Response(response.content, status_code=200,
                        media_type=response.headers.get("content-type", "application/json"))


def _user_of(payload: dict[str, Any]) -> str:
    """The chat request's ``user`` field (an end-user id the caller chose), bounded."""
    user = payload.get("user")
    return user[:128] if isinstance(user, str) else ""


def _chat_payload(body: bytes) -> dict[str, Any] | JSONResponse:
    """The parsed request, or a 400 saying what is wrong with it."""
    try:
        payload = json.loads(body)
    except ValueError:
        return openai_error(400, "We could not parse the JSON body of your request.",
                            "invalid_request_error", "invalid_json")
    if not isinstance(payload, dict):
        return openai_error(400, "The body must be a JSON object.", "invalid_request_error",
                            "invalid_json")
    if not isinstance(payload.get("messages"), list) or not payload["messages"]:
        return openai_error(400, "messages: a non-empty list of messages is required.",
                            "invalid_request_error", "invalid_messages")
    return payload


def _unreachable(exc: Exception, upstream: Upstream) -> JSONResponse:
    import httpx

    from flashback_tui.server.probes import describe_transport_error

    if isinstance(exc, httpx.TimeoutException):
        return openai_error(504, f"The provider at {upstream.host} did not answer in time.",
                            "api_timeout_error", "upstream_timeout")
    reason = upstream.scrub(describe_transport_error(exc))
    return openai_error(502, f"The provider at {upstream.host} cannot be reached: {reason}.",
                        "api_connection_error", "upstream_unreachable")


def provider_error(status: int, body: bytes, upstream: Upstream) -> JSONResponse:
    """A provider's error as an OpenAI-style body with its status, secrets scrubbed."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        payload = payload[0]  # Google's compatibility layer sometimes wraps errors in a list
    message = kind = code = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            kind = error.get("type") or error.get("status")
            code = error.get("code")
        elif isinstance(error, str):
            message = error
        elif isinstance(payload.get("message"), str):
            message = payload["message"]
    if not isinstance(message, str) or not message.strip():
        message = f"The provider at {upstream.host} answered {status}."
    if status < 400:  # a redirect or an informational answer is not a completion
        status = 502
    return openai_error(status, upstream.scrub(message),
                        kind if isinstance(kind, str) else "provider_error",
                        str(code) if code is not None else None)


def _anthropic_models(body: bytes) -> dict[str, Any]:
    """Claude's model page as OpenAI's model list."""
    try:
        page = json.loads(body)
    except ValueError:
        page = {}
    data = page.get("data") if isinstance(page, dict) else None
    return {"object": "list", "data": [
        {"id": m.get("id"), "object": "model", "created": 0, "owned_by": "anthropic"}
        for m in data or () if isinstance(m, dict) and m.get("id")
    ]}


# ---------------------------------------------------------------------------------------------
# Wiring into the app
# ---------------------------------------------------------------------------------------------

router = APIRouter(prefix="/v1", tags=["Gateway (OpenAI-compatible)"])


@router.post("/chat/completions", summary="Chat completion through the gateway")
async def chat_completions(request: Request) -> Response:
    """OpenAI's chat completions, authenticated with a repository AI API key."""
    gateway: Gateway = request.app.state.gateway
    return await gateway.chat_completions(request)


@router.get("/models", summary="Models of the key's configuration")
async def list_models(request: Request) -> Response:
    """OpenAI's model list, from the key's configuration."""
    gateway: Gateway = request.app.state.gateway
    return await gateway.models(request)


class GatewayHooks:
    """ASGI middleware: serves the gateway, clears its caches on changes, writes usage
    before reads.

    ``POST /v1/chat/completions`` and ``GET /v1/models`` are answered here, ahead of the
    framework's router: the hot path skips route scanning and dependency resolution (about
    0.3 ms per call). The router's entries for them call the same handlers and describe them
    in the OpenAPI schema.
    """

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        self.endpoints: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("POST", "/v1/chat/completions"): gateway.chat_completions,
            ("GET", "/v1/models"): gateway.models,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint = self.endpoints.get((method, path))
        if endpoint is not None:
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send)
            return
        if method in _MUTATING and not path.startswith("/v1/"):
            gateway = self.gateway

            async def send_after_change(message: Message) -> None:
                if message["type"] == "http.response.start":
                    gateway.invalidate()  # the change is committed; nothing is sent yet
                await send(message)

            await self.app(scope, receive, send_after_change)
            return
        if method == "GET" and path in USAGE_READ_PATHS:
            try:
                await self.gateway.flush_usage()
            except Exception as exc:  # serve what is stored; the counts stay pending
                logger.error("cannot write gateway usage before a read: %s",
                             type(exc).__name__)
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the gateway, repository and policy routes to ``app``, with their lifecycle."""
    from flashback_tui.server.routes import policies, repos

    gateway = Gateway()
    app.state.gateway = gateway
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with original(app_) as maybe_state:
            await gateway.start(app_.state.platform)
            try:
                yield maybe_state
            finally:
                await gateway.stop()

    app.router.lifespan_context = lifespan
    app.include_router(router)
    app.include_router(repos.router)
    app.include_router(policies.router)
    app.add_middleware(GatewayHooks, gateway=gateway)
