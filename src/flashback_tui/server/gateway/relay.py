"""Streaming relay: a reader task owns the provider's event stream and hands events on.

The gateway always asks the provider for usage (``stream_options.include_usage``) and drops
that extra chunk when the caller did not ask for it. Because the reader task owns the
upstream stream, a client that disconnects mid-stream does not stop the accounting: the
reader drains the provider's answer (for at most ``DRAIN_SECONDS``) and records the call
with the provider's usage. The stream's closing ``data: [DONE]`` event is passed on only
once the call is recorded (with durable usage: written), so a client that saw its stream
complete saw a counted call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from flashback_tui.server.accounting import CallUsage, choice_texts, count_tokens

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("flashback_tui.server.gateway")

#: After a client disconnects mid-stream, how long the provider's answer is still read.
DRAIN_SECONDS = 30.0


def error_event(message: str) -> bytes:
    """A server-sent event the OpenAI SDK raises as ``APIError``: the stream did not end well."""
    body = {"error": {"message": message, "type": "upstream_error", "param": None,
                      "code": "stream_broken"}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class StreamRelay:
    """Reads a provider's event stream in its own task and hands events to the client.

    The reader counts as it goes and records the call when the upstream stream ends, however
    the client behaves.
    """

    def __init__(self, response: httpx.Response, usage: CallUsage, *, include_usage: bool,
                 finish: Callable[[CallUsage], Awaitable[None]], chunk_timeout: float = 30.0,
                 host: str = "the provider") -> None:
        self.response = response
        self.chunk_timeout = chunk_timeout
        self.host = host
        self.done = False
        #: The client was sent an error event: nothing more is passed on.
        self.refused = False
        self.usage = usage
        self.include_usage = include_usage
        self.finish = finish
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.client_gone = False
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        self._texts: list[str] = []
        #: The closing ``[DONE]`` event, held until the call is recorded.
        self._closing: bytes | None = None

    async def pump(self) -> None:
        """Read the upstream stream to its end, relaying and counting each event."""
        broken: str | None = None
        try:
            pending = b""
            async for chunk in self._chunks():
                pending += chunk
                if b"\r" in pending:  # CRLF line ends (a CR kept at the end pairs up later)
                    pending = pending.replace(b"\r\n", b"\n")
                while (end := pending.find(b"\n\n")) >= 0:
                    event, pending = pending[:end], pending[end + 2:]
                    if event:
                        self._event(event)
            if pending.strip():
                self._event(pending.strip())
            if not self.done:
                broken = f"The stream from {self.host} ended without its final event."
        except TimeoutError:
            broken = (f"The stream from {self.host} stalled: no data for "
                      f"{self.chunk_timeout:g} s.")
        except Exception as exc:  # the provider broke off
            logger.warning("provider stream ended early: %s", type(exc).__name__)
            broken = f"The stream from {self.host} broke off ({type(exc).__name__})."
        finally:
            if broken is not None:
                self._refuse(broken)
            self.usage.tokens_out = count_tokens("".join(self._texts))
            with contextlib.suppress(BaseException):
                await self.response.aclose()
            try:
                await self.finish(self.usage)
            finally:
                if self._closing is not None and not self.client_gone and not self.refused:
                    self.queue.put_nowait(self._closing)
                self.finished = True
                self.queue.put_nowait(None)

    async def _chunks(self) -> AsyncIterator[bytes]:
        """The upstream body, chunk by chunk; TimeoutError after ``chunk_timeout`` idle."""
        chunks = self.response.aiter_bytes()
        while True:
            try:
                async with asyncio.timeout(self.chunk_timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            yield chunk

    def _event(self, event: bytes) -> None:
        """Count one server-sent event and queue it for the client (unless it is dropped)."""
        if not any(line.startswith(b"data:") for line in event.split(b"\n")):
            self._not_an_event(event)
            return
        forward = True
        closing = False
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                self.done = closing = True
                continue
            try:
                chunk = json.loads(data)
            except (ValueError, RecursionError):
                chunk = None
            if not isinstance(chunk, dict):
                self._refuse(f"{self.host} sent an event that is not a JSON object.")
                return
            if chunk.get("usage"):
                self.usage.add_provider_usage(chunk["usage"])
                if not self.include_usage and not chunk.get("choices"):
                    forward = False
            if isinstance(chunk.get("model"), str):
                self.usage.llm_model = chunk["model"]
            self._texts.extend(choice_texts(chunk.get("choices"), "delta"))
        if closing:  # passed on when the call is recorded (a repeated one: never)
            self._closing = self._closing or event + b"\n\n"
        elif forward and not self.client_gone and not self.refused:
            self.queue.put_nowait(event + b"\n\n")

    def _not_an_event(self, text: bytes) -> None:
        """Text without a ``data:`` line: a comment is passed on; a plain completion (a
        provider that ignored ``stream``) is counted, and the client gets an error event."""
        if text.lstrip().startswith(b":"):
            if not self.client_gone and not self.refused:
                self.queue.put_nowait(text + b"\n\n")
            return
        try:
            answer = json.loads(text)
        except (ValueError, RecursionError):
            answer = None
        if isinstance(answer, dict):
            self.usage.add_provider_usage(answer.get("usage"))
            self._texts.extend(choice_texts(answer.get("choices"), "message"))
        self._refuse(f"{self.host} answered with something that is not an event stream.")

    def _refuse(self, message: str) -> None:
        """End what the client sees with an error event; the rest is still read and counted."""
        if not self.refused and not self.client_gone:
            self.queue.put_nowait(error_event(message))
        self.refused = True

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
