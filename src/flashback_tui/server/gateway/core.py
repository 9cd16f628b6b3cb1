"""The :class:`Gateway` of one app: authentication, policies, forwarding, accounting.

Hot path: key routes (key digest -> configuration, its opened secret and the names a
violation records) and each org's compiled policies are cached in memory; an entry holds only
while the database's data version (:func:`store_base.data_version`, as :mod:`.version`
follows it) is the one it was read at, and at most ``CACHE_TTL`` seconds, so a revoked key or
an edited policy applies from the next request on (through another replica of a PostgreSQL
database: within a second). Usage and violations are written off the request path. One pooled
transport (:class:`~flashback_tui.server.upstream.UpstreamTransport`) serves every upstream
call: the gateway sends through it rather than an ``httpx.AsyncClient``, whose cookie, auth,
redirect and hook layers it does not need; proxies come from the environment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
from flashback_tui.server.gateway.enforcement import ViolationLog, check_prompt
from flashback_tui.server.gateway.errors import (
    anthropic_models,
    chat_payload,
    json_object,
    not_a_reply,
    openai_error,
    provider_error,
    unreachable,
    user_of,
)
from flashback_tui.server.gateway.relay import RelayResponse, StreamRelay
from flashback_tui.server.gateway.routing import Upstream, VersionedCache, upstream_for
from flashback_tui.server.gateway.version import DataVersionWatch
from flashback_tui.server.policies import CompiledPolicy
from flashback_tui.server.sql import POSTGRESQL, DBAPIError
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import policies as policy_store
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store import violations as violation_store
from flashback_tui.server.store.violations import KeyContext

if TYPE_CHECKING:
    import httpx

    from flashback_tui.server.config import ServerSettings
    from flashback_tui.server.state import PlatformState

logger = logging.getLogger("flashback_tui.server.gateway")

#: Seconds a key route or an org's compiled policies stay cached (at most).
CACHE_TTL = 10.0


@dataclass(frozen=True)
class UpstreamTimeouts:
    """Seconds the gateway waits on a provider (see :class:`ServerSettings`'s
    ``upstream_*_timeout``): to connect, for an answer to begin, between two stream chunks."""

    connect: float = 5.0
    first_byte: float = 30.0
    chunk: float = 30.0

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> UpstreamTimeouts:
        """The timeouts a server's settings name."""
        return cls(settings.upstream_connect_timeout, settings.upstream_first_byte_timeout,
                   settings.upstream_chunk_timeout)

    def for_httpx(self) -> dict[str, float]:
        """As an httpx request's ``timeout`` extension (each read: ``first_byte``)."""
        return {"connect": self.connect, "read": self.first_byte, "write": self.first_byte,
                "pool": self.connect}
#: At shutdown, how long open streams may take to finish before they are cut.
SHUTDOWN_GRACE = 5.0


class Gateway:
    """The gateway of one app: caches, the upstream client, the usage accumulator."""

    def __init__(self, timeouts: UpstreamTimeouts | None = None, *,
                 durable_usage: bool | None = None) -> None:
        self.timeouts = timeouts or UpstreamTimeouts()
        #: Answers wait for their usage to be written (None: on PostgreSQL only).
        self.durable_usage = durable_usage
        self.routes = VersionedCache(CACHE_TTL)
        self.policies = VersionedCache(CACHE_TTL)
        self.state: PlatformState | None = None
        self.transport: httpx.AsyncBaseTransport | None = None
        self.accumulator: UsageAccumulator | None = None
        self.violations: ViolationLog | None = None
        self.version: DataVersionWatch | None = None
        self._relays: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._violation_flusher: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, state: PlatformState) -> None:
        """Start writing usage in the background (the upstream pool opens on first use)."""
        self.state = state
        db = state.db
        self.version = DataVersionWatch(lambda: store_base.data_version(db.conn()),
                                        poll=db.dialect == POSTGRESQL)
        if self.durable_usage is None:
            self.durable_usage = db.dialect == POSTGRESQL
        await self.version.start()
        self.accumulator = UsageAccumulator.for_database(state.db.conn)
        self._flusher = asyncio.create_task(self.accumulator.run_periodic())
        self.violations = ViolationLog.for_database(state.db.conn)
        self._violation_flusher = asyncio.create_task(self.violations.run_periodic())

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
        for flusher in (self._flusher, self._violation_flusher):
            if flusher is not None:
                flusher.cancel()
                await asyncio.gather(flusher, return_exceptions=True)
        if self.version is not None:
            await self.version.stop()
        try:
            await self.flush_usage()
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
                                extensions={"timeout": self.timeouts.for_httpx()})
        response = await self._upstream().handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    def invalidate(self) -> None:
        """Forget cached key routes and policies (they also follow the data version)."""
        self.routes.clear()
        self.policies.clear()

    async def flush_usage(self) -> None:
        """Write the pending usage and policy violations now."""
        if self.violations is not None:
            await self.violations.flush()
        if self.accumulator is not None:
            await self.accumulator.flush()

    async def flush_violations(self) -> None:
        """Write the pending policy violations and alerts now."""
        if self.violations is not None:
            await self.violations.flush()

    async def _version(self) -> tuple[int, ...]:
        assert self.version is not None
        return await self.version.current()

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
        try:
            version = await self._version()
        except DBAPIError as exc:
            logger.error("cannot read the data version for the gateway: %s", type(exc).__name__)
            return openai_error(503, "The platform's database cannot be reached; try again.",
                                "server_error", "database_unavailable")
        cached = self.routes.get(digest, version)
        if cached is not None:
            return cached
        try:
            route, context = await run_in_threadpool(self._route, digest)
        except CryptoError:
            logger.error("cannot open the secret of a configuration for the gateway")
            return openai_error(500, "A stored secret cannot be decrypted with the current"
                                " keys.", "server_error", "sealed_secret")
        if route is None:
            return openai_error(401, "Incorrect API key provided: it is unknown or revoked.",
                                "invalid_request_error", "invalid_api_key")
        upstream = upstream_for(route, context)
        self.routes.put(digest, upstream, version)
        return upstream

    def _route(self, digest: str) -> tuple[repo_store.KeyRoute | None, KeyContext | None]:
        assert self.state is not None
        conn = self.state.db.conn()
        route = repo_store.route_for_digest(conn, self.state.keyring, digest)
        if route is None:
            return None, None
        return route, violation_store.key_context(conn, route.key_id)

    async def org_policies(self, org_id: str) -> list[CompiledPolicy]:
        """The org's enforced policies, compiled (cached for the current data version)."""
        version = await self._version()
        cached = self.policies.get(org_id, version)
        if cached is not None:
            return cached
        assert self.state is not None
        db = self.state.db
        compiled = await run_in_threadpool(
            lambda: policy_store.enforced_policies(db.conn(), org_id))
        self.policies.put(org_id, compiled, version)
        return compiled

    # -- accounting -----------------------------------------------------------------------------

    async def _record(self, usage: CallUsage, started: float) -> None:
        """Count the call; with durable usage, return once its counts are written."""
        usage.latency_ms = (time.perf_counter() - started) * 1000
        if self.accumulator is None:
            return
        number = self.accumulator.add(usage)
        if not self.durable_usage:
            return
        try:
            if usage.policy_violations and self.violations is not None:
                await self.violations.flush()
            await self.accumulator.flush(through=number)
        except Exception as exc:  # kept pending: the background writer tries again
            logger.error("cannot write a gateway call's usage before its answer: %s",
                         type(exc).__name__)

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
        payload = chat_payload(body)
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
                          user_uuid=user_of(payload))
        if upstream.context is not None:
            policies = await self.org_policies(upstream.context.org_id)
            records, refusal = check_prompt(policies, "\n".join(texts), upstream, usage)
            if records and self.violations is not None:
                self.violations.add(records)
            if refusal is not None:
                await self._record(usage, started)
                return refusal
        if payload.get("stream") is True:
            return await self._stream(upstream, payload, usage, started)
        return await self._plain(upstream, body, usage, started)

    async def _plain(self, upstream: Upstream, body: bytes, usage: CallUsage,
                     started: float) -> Response:
        import httpx

        try:
            try:
                response = await self.send("POST", upstream.chat_url, upstream.headers(), body)
            except httpx.HTTPError as exc:
                return unreachable(exc, upstream)
            if not 200 <= response.status_code < 300:
                return provider_error(response.status_code, response.content, upstream)
            answer = json_object(response.content)
            if answer is None:
                return not_a_reply(response, upstream, "chat completion")
            usage.add_provider_usage(answer.get("usage"))
            usage.tokens_out = count_tokens(
                "".join(choice_texts(answer.get("choices"), "message")))
            if isinstance(answer.get("model"), str):
                usage.llm_model = answer["model"]
            return Response(response.content, status_code=response.status_code,
                            media_type=response.headers.get("content-type",
                                                            "application/json"))
        finally:
            await self._record(usage, started)

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
            await self._record(usage, started)
            return unreachable(exc, upstream)
        if not 200 <= response.status_code < 300:
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
                await self._record(usage, started)
            return provider_error(response.status_code, body, upstream)
        relay = StreamRelay(response, usage, include_usage=include_usage,
                            finish=lambda u: self._record(u, started),
                            chunk_timeout=self.timeouts.chunk, host=upstream.host)
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
            return unreachable(exc, upstream)
        if not 200 <= response.status_code < 300:
            return provider_error(response.status_code, response.content, upstream)
        if json_object(response.content) is None:
            return not_a_reply(response, upstream, "model list")
        if upstream.route.ai_type == AiType.ANTHROPIC:
            return JSONResponse(anthropic_models(response.content))
        return Response(response.content, status_code=200,
                        media_type=response.headers.get("content-type", "application/json"))
