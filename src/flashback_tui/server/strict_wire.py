"""Strict-wire mode: answers carry only what the hosted platform's client declares.

The local platform adds a few fields of its own (marked with ``LOCAL_ONLY`` in
:mod:`flashback_tui.api.models`, such as ``validationStatus``). With
``FLASHBACK_STRICT_WIRE=1`` this middleware removes them from every JSON answer, so the TUI
and the CLI can be tested against exactly the shapes the hosted platform sends.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flashback_tui.api import models
from flashback_tui.api.models import LOCAL_ONLY


@cache
def local_only_keys() -> frozenset[str]:
    """The wire names of every field marked local-only in the wire models."""
    keys: set[str] = set()
    for name in models.__all__:
        model = getattr(models, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            for field_name, field in model.model_fields.items():
                if field.json_schema_extra == LOCAL_ONLY:
                    keys.add(field.alias or field_name)
    return frozenset(keys)


def strip_local(value: Any, keys: frozenset[str]) -> Any:
    """``value`` without the keys in ``keys``, at any depth."""
    if isinstance(value, dict):
        return {k: strip_local(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip_local(v, keys) for v in value]
    return value


class StrictWire:
    """ASGI middleware: drop local-only fields from JSON answers (buffering each answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.keys = local_only_keys()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._send_stripped(start, b"".join(chunks), send)

        await self.app(scope, receive, buffering_send)

    async def _send_stripped(self, start: Message, body: bytes, send: Send) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if b"json" in content_type and body:
            body = json.dumps(strip_local(json.loads(body), self.keys),
                              separators=(",", ":")).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
