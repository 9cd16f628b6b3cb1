"""OpenAI-style error answers of the gateway, and reading a chat request's body.

Errors are ``{"error": {"message", "type", "param", "code"}}`` bodies; provider errors keep
their status and never carry the provider secret.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from starlette.responses import JSONResponse

from flashback_tui.server.gateway.chat_request import check_chat_request


class Upstreamish(Protocol):
    """What an error needs to know about the upstream: its host and how to scrub."""

    host: str

    def scrub(self, text: str) -> str:
        """``text`` without the configuration's key or secret."""


def openai_error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    """An OpenAI-style error answer."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def scrubber(values: list[str | None]) -> Any:
    """A scrubber of the given secret values."""
    from flashback_tui.server.probes import _Scrubber  # the one home of secret scrubbing

    return _Scrubber(values)


def user_of(payload: dict[str, Any]) -> str:
    """The chat request's ``user`` field (an end-user id the caller chose), bounded."""
    user = payload.get("user")
    return user[:128] if isinstance(user, str) else ""


#: How deeply a chat request's JSON may nest (real requests stay far below).
MAX_JSON_DEPTH = 64


def nesting_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def chat_payload(body: bytes) -> dict[str, Any] | JSONResponse:
    """The parsed request, or a 400 saying what is wrong with it."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return openai_error(400, "We could not parse the JSON body of your request.",
                            "invalid_request_error", "invalid_json")
    if nesting_depth(payload) > MAX_JSON_DEPTH:
        return openai_error(400, f"The request is nested more than {MAX_JSON_DEPTH} levels"
                            " deep.", "invalid_request_error", "too_deep")
    if not isinstance(payload, dict):
        return openai_error(400, "The body must be a JSON object.", "invalid_request_error",
                            "invalid_json")
    refused = check_chat_request(payload)
    return payload if refused is None else refused


def unreachable(exc: Exception, upstream: Upstreamish) -> JSONResponse:
    """A 504 (timeout) or 502 (cannot connect) naming the provider's host."""
    import httpx

    from flashback_tui.server.probes import describe_transport_error

    if isinstance(exc, httpx.TimeoutException):
        return openai_error(504, f"The provider at {upstream.host} did not answer in time.",
                            "api_timeout_error", "upstream_timeout")
    reason = upstream.scrub(describe_transport_error(exc))
    return openai_error(502, f"The provider at {upstream.host} cannot be reached: {reason}.",
                        "api_connection_error", "upstream_unreachable")


def json_object(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None if it is not one (invalid, a list, a page...)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def not_a_reply(response: Any, upstream: Upstreamish, expected: str) -> JSONResponse:
    """The 502 for a provider's 2xx that is not the JSON object it should be."""
    media = response.headers.get("content-type", "no content type").split(";")[0].strip()
    return openai_error(502, f"The provider at {upstream.host} answered with something that "
                        f"is not a {expected} (a JSON object): {media or 'no content type'}.",
                        "upstream_error", "invalid_upstream_reply")


def provider_error(status: int, body: bytes, upstream: Upstreamish) -> JSONResponse:
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


def anthropic_models(body: bytes) -> dict[str, Any]:
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

