"""Wiring the gateway into the app: its routes and its ASGI hooks (the app starts and stops it).

``POST /v1/chat/completions`` and ``GET /v1/models`` are answered by :class:`GatewayHooks`,
ahead of the framework's router: the hot path skips route scanning and dependency resolution
(about 0.3 ms per call). The router's entries for them call the same handlers and describe
them in the OpenAPI schema. The hooks also write pending usage before usage reads and pending
violations before violation and alert reads, so those reads see every finished call. Caches
need no clearing on changes: they follow the data version (see :mod:`.core`), which the hooks
read again after every change made through this server's API, before its answer goes out
(see :mod:`.version`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flashback_tui.server.gateway.core import Gateway

logger = logging.getLogger("flashback_tui.server.gateway")

#: Reads of usage that first write the pending counts, so they see every finished call.
USAGE_READ_PATHS = frozenset({"/ai/llm/stats", "/aistats/minute", "/aistats/daily"})


def is_violation_read(path: str) -> bool:
    """``/policy/violations``, ``/policy/alerts`` and their per-policy forms."""
    if not path.startswith("/policy/"):
        return False
    parts = path.rstrip("/").split("/")
    return len(parts) in (3, 4) and parts[-1] in ("violations", "alerts")


#: Methods that change nothing (every other may, so the data version is read after it).
_READS = frozenset({"GET", "HEAD", "OPTIONS"})

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
    """ASGI middleware: serves the gateway, writes usage and violations before their reads."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        self.endpoints: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
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
        if method in _READS:
            if method == "GET":
                await self._flush_before(path)
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._after_change(send))

    def _after_change(self, send: Send) -> Send:
        """``send``, first taking in the change a request made before its answer starts."""
        version = self.gateway.version

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and version is not None:
                await version.after_local_change()
            await send(message)

        return sending

    async def _flush_before(self, path: str) -> None:
        """Write what a read of ``path`` must see (failures: serve what is stored)."""
        try:
            if path in USAGE_READ_PATHS:
                await self.gateway.flush_usage()
            elif is_violation_read(path):
                await self.gateway.flush_violations()
        except Exception as exc:
            logger.error("cannot write gateway records before a read: %s", type(exc).__name__)
