"""The parts of ``/openapi.json`` the framework cannot derive from the routes.

* The gateway (``/v1``) is served ahead of the router in its own dialect: its request body
  (:data:`~flashback_tui.server.gateway.chat_request.CHAT_REQUEST_SCHEMA`), its answers (a JSON
  completion or, streamed, ``text/event-stream``), its OpenAI-style errors and its bearer
  (a repository AI key's secret) are written here.
* Every operation may answer 431 (request headers over the limit, :mod:`.limits`); every one
  but sign-in and refresh needs a bearer token (``security``).
* A request the HTTP layer cannot parse at all (a request line over its limit, raw control
  bytes in the URL) never reaches the application: the HTTP server answers it with a
  ``text/plain`` 400. That is transport-level, but it is an answer a client can get, so every
  400 also lists ``text/plain``.
"""

from __future__ import annotations

from typing import Any

from flashback_tui.server.gateway.chat_request import CHAT_REQUEST_SCHEMA

#: An ISO 8601 date, optionally with a time and an offset (what query filters take), as a
#: regular expression; ``{sep}`` is the date/time separator the filter allows.
ISO_INSTANT = ("[0-9]{{4}}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
               "(?:{sep}(?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::[0-5][0-9](?:[.][0-9]+)?)?)?"
               "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?")


def any_case(word: str) -> str:
    """A regular expression matching ``word`` in any letter case."""
    return "".join(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else ch for ch in word)


def csv_of(words: tuple[str, ...]) -> str:
    """A pattern for a comma-separated list of ``words`` (any case, blanks allowed)."""
    one = "(?:" + "|".join(any_case(w) for w in words) + ")?"
    return f"^ *{one} *(?:, *{one} *)*$"


#: Operations a client calls without a bearer token.
PUBLIC_PATHS = frozenset({"/user/login", "/user/refresh"})

OPENAI_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "properties": {
            "message": {"type": "string"},
            "type": {"type": "string"},
            "param": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"]},
        },
    }},
    "description": "An OpenAI-style error.",
}

_GATEWAY_ERRORS = {
    "400": "The request is not a chat request the gateway can read (``param`` names the field).",
    "401": "No repository AI key, or an unknown or revoked one.",
    "403": "The prompt breaks a blocking policy.",
    "413": "The body is over the gateway's limit.",
    "431": "The request headers are too large.",
    "501": "The configuration's provider type is not supported by the gateway.",
    "502": "The provider cannot be reached, or answered with something that is not a valid "
           "reply, or its stream broke off.",
    "504": "The provider did not answer in time.",
    "default": "An error the provider answered, relayed with its status (secrets removed).",
}

CHAT_COMPLETION = {
    "type": "object",
    "description": "The provider's completion, relayed (``choices``, ``usage``, ...).",
}
MODEL_LIST = {
    "type": "object",
    "properties": {"object": {"type": "string"}, "data": {"type": "array"}},
    "description": "The models of the key's configuration, as OpenAI lists them.",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _gateway_errors() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/OpenAIError"}
    return {status: _json(ref, text) for status, text in _GATEWAY_ERRORS.items()}


def _describe_gateway(paths: dict[str, Any]) -> None:
    chat = paths.get("/v1/chat/completions", {}).get("post")
    if chat is not None:
        chat["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": CHAT_REQUEST_SCHEMA}}}
        answer = _json(CHAT_COMPLETION, "The completion; with ``stream: true``, server-sent "
                       "events ending in ``data: [DONE]`` (or in an error event).")
        answer["content"]["text/event-stream"] = {"schema": {
            "type": "object", "description": "One server-sent event.",
            "properties": {"data": {"type": "string"}}}}
        chat["responses"] = {"200": answer, **_gateway_errors()}
    models = paths.get("/v1/models", {}).get("get")
    if models is not None:
        models["responses"] = {"200": _json(MODEL_LIST, "The model list."),
                               **_gateway_errors()}
    for operations in (paths.get("/v1/chat/completions", {}), paths.get("/v1/models", {})):
        for operation in operations.values():
            operation["security"] = [{"repositoryAiKey": []}]


def _describe_common(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    responses.setdefault("431", _json(error, "The request headers are too large."))
    bad = responses.get("400")
    if bad is not None:
        bad.setdefault("content", {})["text/plain"] = {"schema": {"type": "string"}}
        bad["description"] = (bad.get("description", "") + " (text/plain: a request the HTTP "
                              "server could not parse, answered before the application)")
    if path not in PUBLIC_PATHS and not path.startswith("/v1/"):
        responses.setdefault("401", _json(error, "No valid bearer token."))
        operation["security"] = [{"bearerToken": []}]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add to the generated ``schema`` what the routes do not say (see the module doc)."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["OpenAIError"] = OPENAI_ERROR
    components["securitySchemes"] = {
        "bearerToken": {"type": "http", "scheme": "bearer",
                        "description": "A session token from /user/login."},
        "repositoryAiKey": {"type": "http", "scheme": "bearer",
                            "description": "A repository AI key's secret (the gateway)."},
    }
    paths = schema.get("paths", {})
    _describe_gateway(paths)
    for path, operations in paths.items():
        for operation in operations.values():
            _describe_common(path, operation)
    return schema
