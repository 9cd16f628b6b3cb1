"""Limits on what a request may be: header and body sizes, checked before any parsing.

The management API answers ``{"success": false, "message": ...}`` (a body too large is a
400, as the contract has it); the OpenAI-compatible gateway (``/v1/``) answers in OpenAI's
error shape with the status an HTTP client expects (413, 431).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bodies larger than this are refused before parsing.
MAX_BODY_BYTES = 1024 * 1024
#: Path prefixes with their own body limit (the gateway relays long prompts).
BODY_LIMIT_OVERRIDES: dict[str, int] = {"/v1/": 32 * 1024 * 1024}
#: One request header (name and value) may hold at most this many bytes ...
MAX_HEADER_BYTES = 16 * 1024
#: ... and all of them together at most this many.
MAX_HEADERS_BYTES = 64 * 1024
GATEWAY_PREFIX = "/v1/"


async def refuse(scope: Scope, send: Send, status: int, message: str, code: str) -> None:
    """Answer a refused request in the shape its API speaks."""
    if scope.get("path", "").startswith(GATEWAY_PREFIX):
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                          "code": code}}
    else:
        body = {"success": False, "message": message}
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class HeaderLimits:
    """Refuse requests whose headers are too large (431), before anything reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sizes = [len(name) + len(value) for name, value in scope.get("headers", ())]
            if sizes and (max(sizes) > MAX_HEADER_BYTES or sum(sizes) > MAX_HEADERS_BYTES):
                await refuse(scope, send, 431, "request headers are too large (at most "
                             f"{MAX_HEADER_BYTES // 1024} kB each, {MAX_HEADERS_BYTES // 1024}"
                             " kB in all)", "headers_too_large")
                return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Refuse request bodies over a limit, declared or streamed (chunked).

    ``overrides`` maps a path prefix to its own limit. The management API answers 400, the
    gateway 413.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES,
                 overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides if overrides is not None else dict(BODY_LIMIT_OVERRIDES)

    def limit_for(self, path: str) -> int:
        """The limit that applies to ``path``."""
        return next((size for prefix, size in self.overrides.items()
                     if path.startswith(prefix)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        status = 413 if path.startswith(GATEWAY_PREFIX) else 400
        message = f"body: larger than {limit // 1024} kB"
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await refuse(scope, send, status, message, "request_too_large")
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message_in = await receive()
            if message_in["type"] == "http.request":
                received += len(message_in.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions from body reading; the gateway reads
                    # its body itself and turns this into its own 413.
                    raise StarletteHTTPException(status, message)
            return message_in

        await self.app(scope, counting_receive, send)
