"""A loopback stand-in for AI providers that misbehave, for tests of the gateway and probes.

``HostileProvider`` is a threaded HTTP/1.1 server on 127.0.0.1 (a free port), built like
:class:`tests.support.fake_provider.FakeProvider`. The first path segment chooses the *mode*
(how it misbehaves); some modes take one numeric parameter as the second segment::

    with HostileProvider() as provider:
        provider.endpoint("tokens-huge")     # http://127.0.0.1:PORT/tokens-huge/v1
        provider.endpoint("stall", 250)      # http://127.0.0.1:PORT/stall/250/v1

Every mode serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain, and
``"stream": true`` as Server-Sent Events over chunked transfer encoding). It accepts any key,
or none. The baseline ``ok`` answers like the fake provider: the reply is
``"You said: <last user message>"``, ``prompt_tokens`` counts the words of every message,
``completion_tokens`` those of the reply; a stream is a role chunk, one chunk per word, a
``finish_reason`` chunk, a usage chunk when ``stream_options.include_usage`` is set, then
``data: [DONE]``. The other modes change that as follows.

Lies in well-formed JSON (``/models`` as ``ok``, except where a shape mode says otherwise):

``tokens-huge`` / ``tokens-negative`` / ``tokens-bool`` / ``tokens-float`` / ``tokens-string``
    ``prompt_tokens``, ``completion_tokens`` and ``total_tokens`` are ``2**64``
    (18446744073709551616), ``-7``, ``true``, ``2.5`` or ``"12"`` (see ``TOKEN_VALUES``).
    A stream always ends with the usage chunk, asked for or not.
``shape-tool-calls``
    The message (stream: each content delta) is ``{"tool_calls": 5}``; ``/models`` lists
    ``{"id": 5}``.
``shape-choices``
    ``choices`` is one choice object, not a list; ``/models`` has ``data`` an object.
``shape-usage``
    ``usage`` is the string ``"plenty"`` (a stream always sends it); ``/models`` has ``data``
    a string.
``shape-content``
    ``content`` is the number ``42`` (stream: in each content delta).
``shape-list`` / ``shape-null``
    The whole body (stream: every event) is a JSON list holding it, or ``null``.
``ignore-stream`` / ``always-stream``
    Answers a streamed request with plain JSON, or a plain request with an event stream.

Broken bodies:

``bad-json``
    200, ``application/json``, a body cut inside the JSON (streamed requests too).
``html``
    200 with a ``text/html`` page, for everything.
``cutoff``
    Breaks off mid-way: a plain answer (and ``/models``) announces its full
    ``Content-Length`` and closes the connection after half of it; a stream sends the role
    chunk and two words, then closes without the last chunk and without ``data: [DONE]``.
``malformed-event``
    A stream whose second event is ``data: {"id": "chatcmpl-`` (not JSON); the other events
    and ``[DONE]`` follow as usual. Plain answers and ``/models`` are as ``ok``.

Time and size:

``silent``
    Reads the request and never answers. The connection is held until the client hangs up,
    the provider stops, or ``SILENT_SECONDS`` pass, whichever comes first; then it is closed.
``slow[/<ms>]``
    Waits ``<ms>`` (default ``SLOW_MS``) before the status line, then answers as ``ok``.
``stall[/<ms>]``
    A stream sends its first event at once and waits ``<ms>`` (default ``STALL_MS``) before
    each later one; a plain answer (and ``/models``) sends its headers and half its body,
    waits ``<ms>``, then the rest.
``huge[/<bytes>]``
    A well-formed answer of at least ``<bytes>`` (default ``HUGE_BYTES``): the reply content
    (stream: 64 KiB content chunks) or, for ``/models``, the model list. A plain answer
    announces its ``Content-Length``.
``huge-chunked[/<bytes>]``
    The same without ``Content-Length`` (chunked); a stream is one ``data:`` line of
    ``<bytes>`` that never ends with a newline, then the body ends.

Waits end early when the client hangs up or the provider stops, so a test never waits on the
provider. Every request is recorded in ``requests`` (``HostileRequest``) when it arrives:
method, target, mode, headers (credential values replaced by ``"<redacted>"``), body, whether
it asked to stream; ``answered`` becomes true once the whole answer was written (for
``cutoff``: everything it meant to send), ``client_gone`` when the client hung up first, and
``wait_done()`` blocks until the provider has finished with the request.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.support.fake_provider import CREDENTIAL_HEADERS, REDACTED, _ProviderHTTPServer
from tests.support.hostile_answers import SHAPE_MODES, TOKEN_VALUES, Answer, models_body

SILENT_SECONDS = 60.0
SLOW_MS = 2000.0
STALL_MS = 2000.0
HUGE_BYTES = 32 * 1024 * 1024
CHUNK = 64 * 1024
#: Modes whose second path segment may be a number.
PARAM_MODES = {"slow": SLOW_MS, "stall": STALL_MS, "huge": HUGE_BYTES, "huge-chunked": HUGE_BYTES}
MODES = ("ok", *TOKEN_VALUES, *SHAPE_MODES, "ignore-stream", "always-stream", "bad-json", "html",
         "cutoff", "malformed-event", "silent", *PARAM_MODES)
BAD_JSON = b'{"id": "chatcmpl-hostile", "object": "chat.completion", "choices": [{"index": 0, '
HTML_PAGE = b"<!doctype html><html><body><h1>It works!</h1></body></html>"


@dataclass
class HostileRequest:
    """One request the provider received, recorded on arrival (credential values redacted)."""

    method: str
    target: str
    mode: str
    headers: dict[str, str]
    body: bytes
    stream: bool
    answered: bool = False
    client_gone: bool = False
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.target).path

    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def wait_done(self, timeout: float = 5.0) -> bool:
        """Block until the provider has finished with this request; False on timeout."""
        return self.finished.wait(timeout)


class HostileProvider:
    """A loopback provider stand-in with one misbehaviour per mode; serves until exit."""

    def __init__(self) -> None:
        self.requests: list[HostileRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ProviderHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind a free loopback port and serve in a background thread."""
        self._stopping.clear()
        self._server = _ProviderHTTPServer(("127.0.0.1", 0), _HostileHandler, self)  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="hostile-provider",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, release every held request and close open connections."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> HostileProvider:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("HostileProvider is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def endpoint(self, mode: str, param: float | None = None) -> str:
        """The OpenAI-style endpoint of a mode: ``{url}/<mode>[/<param>]/v1``."""
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}")
        if param is not None and mode not in PARAM_MODES:
            raise ValueError(f"mode {mode!r} takes no parameter")
        middle = "" if param is None else f"/{int(param) if param == int(param) else param}"
        return f"{self.url}/{mode}{middle}/v1"

    def record(self, entry: HostileRequest) -> None:
        """Append one request to ``requests`` (thread-safe)."""
        with self._lock:
            self.requests.append(entry)

    def requests_for(self, mode: str) -> list[HostileRequest]:
        """The recorded requests of one mode, oldest first."""
        with self._lock:
            return [r for r in self.requests if r.mode == mode]

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self.requests.clear()

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` has begun."""
        return self._stopping.is_set()


class _ClientGone(Exception):
    """The client hung up while the provider was still answering."""


class _Released(Exception):
    """The provider stopped while a request was being held."""


class _HostileHandler(BaseHTTPRequestHandler):
    """Parses the mode from the path and answers each request the way the mode says."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ProviderHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``requests`` instead of a log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    @property
    def provider(self) -> HostileProvider:
        return self.server.provider  # type: ignore[return-value]

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        segments = [s for s in urlsplit(self.path).path.split("/") if s]
        mode = segments[0] if segments else ""
        rest = segments[1:]
        self.param = PARAM_MODES.get(mode, 0.0)
        if mode in PARAM_MODES and rest and rest[0].replace(".", "", 1).isdigit():
            self.param = float(rest.pop(0))
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        request = request if isinstance(request, dict) else {}
        self.entry = HostileRequest(
            self.command, self.path, mode,
            {k.lower(): (REDACTED if k.lower() in CREDENTIAL_HEADERS else v)
             for k, v in self.headers.items()},
            body, bool(request.get("stream")))
        self.provider.record(self.entry)
        self.mode = mode
        try:
            self._route(mode, "/".join(rest[1:]), request)
            self.entry.answered = True
        except (_ClientGone, ConnectionError):
            self.entry.client_gone = True
            self.close_connection = True
        except _Released:
            self.close_connection = True
        finally:
            self.entry.finished.set()

    # -- routing ------------------------------------------------------------------------------

    def _route(self, mode: str, operation: str, request: dict[str, Any]) -> None:
        known = (self.command, operation) in {("GET", "models"), ("POST", "chat/completions")}
        if mode not in MODES or not known:
            error = {"message": f"No such hostile endpoint: {self.command} {self.path}",
                     "type": "invalid_request_error", "code": "unknown_url"}
            self._send_bytes(404, json.dumps({"error": error}).encode())
            return
        if mode == "silent":
            self._hold(SILENT_SECONDS)
            raise _Released
        if mode == "slow":
            self._hold(self.param / 1000)
        if mode == "html":
            self._send_bytes(200, HTML_PAGE, "text/html; charset=utf-8")
        elif mode == "bad-json":
            self._send_bytes(200, BAD_JSON)
        elif mode.startswith("huge"):
            self._send_huge(operation == "models", request)
        elif operation == "models":
            self._send_json(models_body(mode))
        else:
            stream = bool(request.get("stream"))
            if mode == "ignore-stream":
                stream = False
            elif mode == "always-stream":
                stream = True
            answer = Answer(mode, request)
            if stream:
                self._send_events(answer.events())
            else:
                self._send_json(answer.plain())

    # -- waiting ------------------------------------------------------------------------------

    def _hold(self, seconds: float) -> None:
        """Wait ``seconds``; raise _ClientGone if the client hangs up, _Released at stop."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.provider.stopping:
                raise _Released
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    peeked = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    peeked = b""
                if not peeked:
                    raise _ClientGone
                time.sleep(min(left, 0.05))  # a pipelined request: not ours to read yet

    # -- writing ------------------------------------------------------------------------------

    def _head(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_json(self, body: Any) -> None:
        self._send_bytes(200, json.dumps(body).encode())

    def _send_bytes(self, status: int, payload: bytes,
                    content_type: str = "application/json") -> None:
        self._head(status, content_type, len(payload))
        if self.mode in ("cutoff", "stall") and status == 200:
            half = len(payload) // 2
            self.wfile.write(payload[:half])
            self.wfile.flush()
            if self.mode == "cutoff":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._hold(self.param / 1000)
            payload = payload[half:]
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_events(self, events: list[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, event in enumerate(events):
            if self.mode == "cutoff" and index == 3:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if self.mode == "stall" and index:
                self._hold(self.param / 1000)
            self._chunk(b"data: " + event + b"\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_huge(self, models: bool, request: dict[str, Any]) -> None:
        size = int(self.param)
        chunked = self.mode == "huge-chunked"
        stream = bool(request.get("stream")) and not models
        if stream:
            self._head(200, "text/event-stream", None)
            if chunked:  # one endless line
                self._chunk(b'data: {"choices": [{"index": 0, "delta": {"content": "')
                for _ in range(max(1, -(-size // CHUNK))):
                    self._chunk(b"x" * CHUNK)
            else:
                answer = Answer("ok", request)
                piece = json.dumps(answer.chunk({"content": "x" * CHUNK})).encode()
                for _ in range(max(1, -(-size // len(piece)))):
                    self._chunk(b"data: " + piece + b"\n\n")
                for event in answer.events()[-2:]:
                    self._chunk(b"data: " + event + b"\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        if models:
            head, tail = b'{"object": "list", "data": [', b"]}"
            item = b'{"id": "fake-gpt-small", "object": "model", "owned_by": "fake"}, '
            filler = item * (CHUNK // len(item))
            last = item[:-2]
        else:
            plain = Answer("ok", request).plain()
            plain["choices"][0]["message"]["content"] = "@"
            head, tail = json.dumps(plain).encode().split(b"@")
            filler, last = b"x" * CHUNK, b""
        count = max(1, -(-size // len(filler)))
        self._head(200, "application/json",
                   None if chunked else len(head) + count * len(filler) + len(last) + len(tail))
        write = self._chunk if chunked else self.wfile.write
        write(head)
        for _ in range(count):
            write(filler)
        write(last + tail)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
