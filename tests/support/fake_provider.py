"""A loopback stand-in for AI providers, for tests and benchmarks.

``FakeProvider`` is a threaded HTTP/1.1 server on 127.0.0.1 (a free port) that answers like
the providers flashback-tui talks to. One instance serves many scenarios at once: the first
segment(s) of the URL path choose the scenario, so any number of configurations can point at
one provider with different endpoints::

    with FakeProvider(valid_keys={"sk-right"}) as provider:
        provider.endpoint("ok")            # http://127.0.0.1:PORT/ok/v1
        provider.endpoint("status", 500)   # http://127.0.0.1:PORT/status/500/v1

Scenarios (``{url}`` is ``provider.url``):

``{url}/ok/v1``
    OpenAI-compatible. ``GET /models`` and ``POST /chat/completions`` need
    ``Authorization: Bearer <key>`` with a key from ``valid_keys``; otherwise 401 with an
    OpenAI-style error body (``code: invalid_api_key``).
``{url}/anykey/v1``
    Like ``ok`` but accepts any key, or none: an endpoint that does not enforce auth.
``{url}/status/<code>/v1``
    Answers every request with ``<code>`` and a JSON error body.
``{url}/slow/<ms>/v1``
    Sleeps ``<ms>`` milliseconds, then behaves like ``ok`` (keys enforced).
``{url}/drip/<ms>/v1``
    Like ``ok`` (keys enforced), but a streamed answer waits ``<ms>`` milliseconds before
    each event after the first: a provider that generates slowly.
``{url}/hang/v1``
    Never answers: holds the request until the provider stops (at most ``HANG_SECONDS``),
    then closes the connection without a response.
``{url}/tarpit/v1``
    Like ``ok`` for a valid key; a request with any other key (or none) is held like ``hang``.
``{url}/echo/v1``
    Answers 400 with an error message that repeats the credentials it received, in full and
    partially masked (first 10 and last 4 characters), the way careless providers do; for
    proving that messages are scrubbed.
``{url}/html/v1``
    Answers 200 with an HTML page: a web server that is not a provider.
``{url}/redirect/v1``
    Answers 302 to ``http://localhost:PORT/ok/v1/...`` (another host name); a client that
    follows it shows up as a recorded request under ``ok``.
``{url}/google/v1beta`` (any version segment)
    Google Generative Language API: ``GET /models`` needs ``x-goog-api-key`` from
    ``valid_keys``. A wrong key answers 400 with ``reason: API_KEY_INVALID`` as the real API
    does; no key answers 403 ``PERMISSION_DENIED``. A ``?key=`` query parameter is ignored
    (and visible in ``requests``, so tests can prove it is never sent).
``{url}/anthropic/v1``
    Anthropic: ``GET /models`` needs ``x-api-key`` from ``valid_keys`` (else 401
    ``authentication_error``) and an ``anthropic-version`` header (else 400).
    ``POST /chat/completions`` (the OpenAI SDK compatibility layer) answers like ``ok``
    under the same credential checks.
``{url}/google/v1beta/openai``
    Google's OpenAI compatibility layer: ``POST /chat/completions`` and ``GET /models``
    need ``Authorization: Bearer <key>`` from ``valid_keys`` (else 400 with the error
    wrapped in a list, as that layer does).
``{url}/bedrock``
    AWS Bedrock: ``GET /foundation-models`` needs a SigV4 ``Authorization`` header
    (``AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/bedrock/aws4_request,
    SignedHeaders=..., Signature=...``) whose signature verifies against ``aws_credentials``
    (access key id -> secret access key); otherwise 403 like the real service.

``closed_port_url()`` returns an endpoint on a port nobody listens on.

Chat completions (``ok``, ``anykey``, ``slow``, ``drip``, ``tarpit``, ``anthropic``,
``google``):
``POST /chat/completions`` with
``{"model", "messages", "stream"?, "stream_options": {"include_usage": true}?}``. The reply is
``"You said: <last user message>"``. Usage is deterministic: ``prompt_tokens`` = the number of
whitespace-separated words over all message contents, ``completion_tokens`` = the words of the
reply (see ``count_tokens``). With ``stream: true`` the answer is Server-Sent Events over
chunked transfer encoding: a role chunk, one chunk per reply word, a ``finish_reason`` chunk,
a usage chunk (empty ``choices``) when ``include_usage`` is set, then ``data: [DONE]``.

Every request is recorded in ``requests`` (``RecordedRequest``): method, path with query,
scenario, header names and values, except that values of credential headers are replaced by
``"<redacted>"``; ``auth_ok`` says whether the provider accepted the credentials,
``auth_scheme`` is the first word of ``Authorization`` (``Bearer``, ``AWS4-HMAC-SHA256``) and,
for a SigV4 header, ``sigv4_scope`` is ``<date>/<region>/<service>/aws4_request`` and
``sigv4_signed_headers`` the signed header names (never the key id or the signature).
A request is recorded when it is answered (after a ``slow`` delay); ``hang`` requests are
recorded on arrival. A ``slow`` request that a client gave up on is still recorded once its
delay ends, so a shared provider's tests should select records with ``requests_for(scenario)``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: Header names whose values the provider never records.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "x-amz-security-token",
        "cookie",
    }
)
REDACTED = "<redacted>"
DEFAULT_VALID_KEY = "sk-fake-valid-key-0001"
DEFAULT_AWS_CREDENTIALS = {"AKIAFAKEVALID0000001": "fake/aws+secret-access-key-0001"}
#: Longest time a ``hang`` request is held before the connection is dropped.
HANG_SECONDS = 60.0

OPENAI_MODELS = ("fake-gpt-small", "fake-gpt-large", "fake-embedding")
ANTHROPIC_MODELS = ("claude-fake-haiku", "claude-fake-sonnet")
GOOGLE_MODELS = ("models/gemini-fake-flash", "models/gemini-fake-pro")
BEDROCK_MODELS = ("amazon.fake-titan-v1", "anthropic.fake-claude-v1", "meta.fake-llama-v1")

_SIGV4_PATTERN = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def count_tokens(text: str) -> int:
    """The fake provider's token count: whitespace-separated words."""
    return len(text.split())


def closed_port_url(path: str = "/v1") -> str:
    """An http URL on a loopback port that nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the provider received, with credential header values redacted."""

    method: str
    target: str
    scenario: str
    headers: dict[str, str]
    auth_ok: bool | None = None
    auth_scheme: str | None = None
    sigv4_scope: str | None = None
    sigv4_signed_headers: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """The raw query string ('' when none)."""
        return urlsplit(self.target).query


@dataclass
class Reply:
    """What a scenario answers: status, JSON (or raw) body and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


class FakeProvider:
    """A loopback AI provider stand-in; a context manager that serves until exit."""

    def __init__(
        self,
        *,
        valid_keys: Iterable[str] = (DEFAULT_VALID_KEY,),
        aws_credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.valid_keys: set[str] = set(valid_keys)
        self.aws_credentials: dict[str, str] = dict(
            DEFAULT_AWS_CREDENTIALS if aws_credentials is None else aws_credentials
        )
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ProviderHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind a free loopback port and serve in a background thread."""
        self._stopping.clear()
        self._server = _ProviderHTTPServer(("127.0.0.1", 0), _ProviderHandler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-provider",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, release hanging requests and close open connections."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeProvider:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the provider listens on."""
        if self._server is None:
            raise RuntimeError("FakeProvider is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, scenario: str, *params: object, version: str = "v1") -> str:
        """The endpoint of a scenario, e.g. ``endpoint("slow", 50)`` -> ``{url}/slow/50/v1``.

        ``bedrock`` has no version segment (its endpoint is the host root on AWS).
        """
        parts = [scenario, *(str(p) for p in params)]
        if scenario != "bedrock" and version:
            parts.append(version)
        return f"{self.url}/" + "/".join(parts)

    # -- records ------------------------------------------------------------------------------

    def record(self, entry: RecordedRequest) -> None:
        """Append one request to ``requests`` (thread-safe)."""
        with self._lock:
            self.requests.append(entry)

    def requests_for(self, scenario: str) -> list[RecordedRequest]:
        """The recorded requests of one scenario, oldest first."""
        with self._lock:
            return [r for r in self.requests if r.scenario == scenario]

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self.requests.clear()

    def wait_stopping(self, seconds: float) -> bool:
        """Block up to ``seconds``; True as soon as the provider is stopping."""
        return self._stopping.wait(seconds)


class _ProviderHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its FakeProvider and tracks open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], handler: type, provider: FakeProvider) -> None:
        self.provider = provider
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer is normal here (cancelled probes); stay quiet."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every connection still open (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _ProviderHandler(BaseHTTPRequestHandler):
    """Routes each request to its scenario by the first path segment."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ProviderHTTPServer
    scenario = ""
    #: Seconds between two streamed events (the ``drip`` scenario sets it).
    event_delay = 0.0

    # -- plumbing -----------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``requests`` instead of a log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    @property
    def provider(self) -> FakeProvider:
        return self.server.provider

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        self.event_delay = 0.0  # per request (a keep-alive connection serves many)
        body = self._read_body()
        segments = [s for s in urlsplit(self.path).path.split("/") if s]
        self.scenario = segments[0] if segments else ""
        route = _SCENARIOS.get(self.scenario, _unknown_scenario)
        outcome = route(self, segments[1:], body)
        if outcome is None:  # the scenario answered (or dropped the connection) itself
            return
        reply, auth_ok = outcome
        self.record(auth_ok)
        self._send(reply)

    def record(self, auth_ok: bool | None) -> None:
        """Record the current request (credential header values redacted)."""
        headers = {
            name.lower(): (REDACTED if name.lower() in CREDENTIAL_HEADERS else value)
            for name, value in self.headers.items()
        }
        authorization = self.headers.get("Authorization") or ""
        sigv4 = _SIGV4_PATTERN.match(authorization)
        self.provider.record(
            RecordedRequest(
                self.command,
                self.path,
                self.scenario,
                headers,
                auth_ok,
                auth_scheme=authorization.split(" ", 1)[0] or None,
                sigv4_scope=(
                    f"{sigv4['date']}/{sigv4['region']}/{sigv4['service']}/aws4_request"
                    if sigv4
                    else None
                ),
                sigv4_signed_headers=tuple(sigv4["signed"].split(";")) if sigv4 else (),
            )
        )

    def _send(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_sse(self, events: Iterable[Any]) -> None:
        """Stream Server-Sent Events with chunked transfer encoding, then ``[DONE]``."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, event in enumerate([*(json.dumps(e) for e in events), "[DONE]"]):
            if index and self.event_delay:
                self.provider.wait_stopping(self.event_delay)
            data = f"data: {event}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def header(self, name: str) -> str | None:
        """A request header, or None."""
        return self.headers.get(name)

    def bearer_key(self) -> str | None:
        """The key of an ``Authorization: Bearer <key>`` header, or None."""
        value = self.header("Authorization") or ""
        scheme, _, key = value.partition(" ")
        return key.strip() if scheme.lower() == "bearer" and key.strip() else None


Outcome = tuple[Reply, bool | None] | None


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible behaviour (ok, anykey, slow)
# ---------------------------------------------------------------------------------------------


def _openai_error(status: int, message: str, code: str | None, kind: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


def _openai(handler: _ProviderHandler, rest: list[str], body: bytes, *, enforce: bool) -> Outcome:
    """Serve ``/v1/models`` and ``/v1/chat/completions`` the way OpenAI does."""
    key = handler.bearer_key()
    auth_ok = key is not None and key in handler.provider.valid_keys
    if enforce and not auth_ok:
        message = (
            "You didn't provide an API key."
            if key is None
            else "Incorrect API key provided. You can find your API key in your dashboard."
        )
        return _openai_error(401, message, "invalid_api_key", "invalid_request_error"), False
    operation = "/".join(rest[1:]) if rest else ""
    if handler.command == "GET" and operation == "models":
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for m in OPENAI_MODELS
        ]
        return Reply(200, {"object": "list", "data": data}), auth_ok
    if handler.command == "POST" and operation == "chat/completions":
        return _chat_completion(handler, body, auth_ok)
    return _openai_error(
        404,
        f"Unknown request URL: {handler.command} {handler.path}",
        "unknown_url",
        "invalid_request_error",
    ), auth_ok


def _chat_completion(handler: _ProviderHandler, body: bytes, auth_ok: bool) -> Outcome:
    try:
        request = json.loads(body or b"null")
        messages = request["messages"]
        model = str(request.get("model") or OPENAI_MODELS[0])
        texts = [str(m.get("content") or "") for m in messages]
    except (ValueError, KeyError, TypeError, AttributeError):
        error = _openai_error(
            400, "Invalid body: expected JSON with messages.", None, "invalid_request_error"
        )
        return error, auth_ok
    last_user = next(
        (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), ""
    )
    reply_text = f"You said: {last_user}".strip()
    prompt_tokens = sum(count_tokens(t) for t in texts)
    completion_tokens = count_tokens(reply_text)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    completion_id = f"chatcmpl-fake-{time.monotonic_ns()}"
    created = int(time.time())
    if request.get("stream"):
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        handler.record(auth_ok)
        handler.send_sse(
            _stream_events(completion_id, created, model, reply_text, usage, include_usage)
        )
        return None
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": reply_text},
        "finish_reason": "stop",
    }
    answer = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage,
    }
    return Reply(200, answer), auth_ok


def _stream_events(
    completion_id: str,
    created: int,
    model: str,
    text: str,
    usage: dict[str, int],
    include_usage: bool,
) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    words = text.split(" ")
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": w if i == 0 else f" {w}"}) for i, w in enumerate(words)]
    events.append(chunk({}, "stop"))
    if include_usage:
        events.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
        )
    return events


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def _ok(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    return _openai(handler, rest, body, enforce=True)


def _anykey(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    return _openai(handler, rest, body, enforce=False)


def _status(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    try:
        code = int(rest[0])
    except (IndexError, ValueError):
        code = 400
    message = f"The fake provider answers {code} in this scenario."
    return _openai_error(code, message, None, "server_error"), None


def _slow(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    try:
        delay_ms = float(rest[0])
    except (IndexError, ValueError):
        delay_ms = 0.0
    handler.provider.wait_stopping(delay_ms / 1000)
    return _openai(handler, rest[1:], body, enforce=True)


def _drip(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    try:
        handler.event_delay = float(rest[0]) / 1000
    except (IndexError, ValueError):
        handler.event_delay = 0.0
    return _openai(handler, rest[1:], body, enforce=True)


def _hang(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    handler.record(None)
    handler.provider.wait_stopping(HANG_SECONDS)
    handler.close_connection = True
    return None


def _tarpit(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    if handler.bearer_key() in handler.provider.valid_keys:
        return _openai(handler, rest, body, enforce=True)
    return _hang(handler, rest, body)


def _echo(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    received = [
        f"{name}={value} (masked {_mask_like_providers(value)})"
        for name, value in handler.headers.items()
        if name.lower() in CREDENTIAL_HEADERS
    ]
    message = "Malformed request with credentials " + "; ".join(received) + f" at {handler.path}"
    return _openai_error(400, message, "bad_request", "invalid_request_error"), None


def _mask_like_providers(value: str) -> str:
    """A partial echo as some providers print it: the first 10 and last 4 characters."""
    token = value.split(" ")[-1]
    return f"{token[:10]}{'*' * 8}{token[-4:]}"


def _html(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    page = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"
    return Reply(200, raw=page, content_type="text/html; charset=utf-8"), None


def _redirect(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    tail = "/".join(rest)
    location = f"http://localhost:{handler.provider.port}/ok/{tail}"
    return Reply(302, {"message": "moved"}, headers={"Location": location}), None


def _google(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    if rest[1:2] == ["openai"]:
        return _google_openai(handler, rest[2:], body)
    key = handler.header("x-goog-api-key")
    if not key:
        error = {
            "code": 403,
            "message": "Method doesn't allow unregistered callers (callers without "
            "established identity). Please use API Key or other form of API consumer "
            "identity to call this API.",
            "status": "PERMISSION_DENIED",
        }
        return Reply(403, {"error": error}), False
    if key not in handler.provider.valid_keys:
        error = {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        }
        return Reply(400, {"error": error}), False
    if handler.command == "GET" and rest[1:] == ["models"]:
        models = [
            {"name": m, "displayName": m.split("/")[-1], "supportedGenerationMethods": []}
            for m in GOOGLE_MODELS
        ]
        return Reply(200, {"models": models}), True
    error = {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    return Reply(404, {"error": error}), True


def _google_openai(handler: _ProviderHandler, operation: list[str], body: bytes) -> Outcome:
    """Google's OpenAI compatibility layer: ``Authorization: Bearer <key>``."""
    if handler.bearer_key() not in handler.provider.valid_keys:
        error = {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                 "status": "INVALID_ARGUMENT"}
        return Reply(400, [{"error": error}]), False
    if handler.command == "POST" and operation == ["chat", "completions"]:
        return _chat_completion(handler, body, True)
    if handler.command == "GET" and operation == ["models"]:
        data = [{"id": m, "object": "model", "owned_by": "google"} for m in GOOGLE_MODELS]
        return Reply(200, {"object": "list", "data": data}), True
    error = {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    return Reply(404, [{"error": error}]), True


def _anthropic(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    def error(status: int, kind: str, message: str) -> Reply:
        return Reply(status, {"type": "error", "error": {"type": kind, "message": message}})

    if not handler.header("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version: header is required"), None
    key = handler.header("x-api-key")
    if not key:
        return error(401, "authentication_error", "x-api-key header is required"), False
    if key not in handler.provider.valid_keys:
        return error(401, "authentication_error", "invalid x-api-key"), False
    if handler.command == "GET" and rest[1:] == ["models"]:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in ANTHROPIC_MODELS
        ]
        page = {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"],
            "last_id": data[-1]["id"],
        }
        return Reply(200, page), True
    if handler.command == "POST" and rest[1:] == ["chat", "completions"]:
        return _chat_completion(handler, body, True)  # Claude's OpenAI SDK compatibility
    return error(404, "not_found_error", "Not found"), True


def _bedrock(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    def denied(kind: str, message: str) -> Reply:
        return Reply(403, {"message": message}, headers={"x-amzn-ErrorType": kind})

    authorization = handler.header("Authorization")
    if not authorization:
        return denied("MissingAuthenticationTokenException", "Missing Authentication Token"), False
    match = _SIGV4_PATTERN.match(authorization)
    if match is None:
        message = "Authorization header requires 'Credential' parameter."
        return denied("IncompleteSignatureException", message), False
    secret = handler.provider.aws_credentials.get(match["akid"])
    if secret is None:
        message = "The security token included in the request is invalid."
        return denied("UnrecognizedClientException", message), False
    if match["service"] != "bedrock" or not _signature_matches(handler, match, secret, body):
        message = (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
        return denied("InvalidSignatureException", message), False
    if handler.command == "GET" and rest == ["foundation-models"]:
        summaries = [
            {
                "modelId": m,
                "modelArn": f"arn:aws:bedrock:{match['region']}::foundation-model/{m}",
                "providerName": m.split(".")[0],
            }
            for m in BEDROCK_MODELS
        ]
        return Reply(200, {"modelSummaries": summaries}), True
    return Reply(404, {"message": "Not found"}), True


def _signature_matches(
    handler: _ProviderHandler, match: re.Match[str], secret: str, body: bytes
) -> bool:
    """Recompute the SigV4 signature over the signed headers and compare."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    amz_date = handler.header("X-Amz-Date") or ""
    if not amz_date.startswith(match["date"]):
        return False
    signed = match["signed"].split(";")
    headers = {name: handler.header(name) or "" for name in signed}
    host = handler.header("Host") or ""
    request = AWSRequest(
        method=handler.command, url=f"http://{host}{handler.path}", headers=headers, data=body
    )
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(match["akid"], secret), match["service"], match["region"])
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return expected == match["signature"]


def _unknown_scenario(handler: _ProviderHandler, rest: list[str], body: bytes) -> Outcome:
    message = f"No such fake-provider scenario in {handler.path}"
    return _openai_error(404, message, "unknown_url", "invalid_request_error"), None


_SCENARIOS = {
    "ok": _ok,
    "anykey": _anykey,
    "status": _status,
    "slow": _slow,
    "drip": _drip,
    "hang": _hang,
    "tarpit": _tarpit,
    "echo": _echo,
    "html": _html,
    "redirect": _redirect,
    "google": _google,
    "anthropic": _anthropic,
    "bedrock": _bedrock,
}
