"""What the gateway accepts as a chat request, as a JSON Schema and as a check.

The gateway relays a request to the provider mostly as it came, but the fields it reads
itself (the model, the messages, streaming, the token limit) must have the types OpenAI
gives them: anything else is an OpenAI-style 400 naming the field (``param``), never a
request forwarded with a value the gateway then misreads. Fields it does not read are passed
on untouched. :data:`CHAT_REQUEST_SCHEMA` says the same for ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

#: The JSON Schema of a chat request (the fields the gateway checks; others are relayed).
CHAT_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string", "description": "The model; the provider's default if "
                  "omitted."},
        "messages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["role"],
            "properties": {
                "role": {"type": "string"},
                "content": {"anyOf": [{"type": "string"}, {"type": "array"},
                                      {"type": "null"}]},
            },
        }},
        "stream": {"type": "boolean"},
        "max_tokens": {"type": ["integer", "null"], "minimum": 1},
        "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1},
        "user": {"type": "string"},
    },
}


def _invalid(param: str, message: str) -> JSONResponse:
    body = {"error": {"message": f"{param}: {message}", "type": "invalid_request_error",
                      "param": param, "code": "invalid_value"}}
    return JSONResponse(body, status_code=400)


def _is_int(value: Any) -> bool:
    """An integer, or a number JSON Schema counts as one (``10.0``)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def check_messages(messages: Any) -> JSONResponse | None:
    """The 400 for a ``messages`` value the gateway cannot read, or None."""
    if not isinstance(messages, list) or not messages:
        return _invalid("messages", "a non-empty list of messages is required.")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            return _invalid(where, "each message must be a JSON object.")
        if not isinstance(message.get("role"), str):
            return _invalid(f"{where}.role", "must be a string.")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            return _invalid(f"{where}.content", "must be a string, a list of parts or null.")
    return None


def check_chat_request(payload: dict[str, Any]) -> JSONResponse | None:
    """The 400 for a chat request whose checked fields have the wrong type, or None."""
    refused = check_messages(payload.get("messages"))
    if refused is not None:
        return refused
    if "model" in payload and not isinstance(payload["model"], str):
        return _invalid("model", "must be a string.")
    if "stream" in payload and not isinstance(payload["stream"], bool):
        return _invalid("stream", "must be true or false.")
    for field in ("max_tokens", "max_completion_tokens"):
        value = payload.get(field)
        if value is not None and (not _is_int(value) or value < 1):
            return _invalid(field, "must be a positive integer.")
    if "user" in payload and not isinstance(payload["user"], str):
        return _invalid("user", "must be a string.")
    return None
