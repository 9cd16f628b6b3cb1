"""A loopback TCP proxy that delays every byte by a fixed time in each direction.

``DelayProxy(target_port, delay=0.1)`` listens on 127.0.0.1 and forwards each connection to
the target, holding every chunk for ``delay`` seconds before passing it on: a platform that
far away, without limiting throughput (chunks in flight overlap). It runs an asyncio loop in
a thread of its own::

    with DelayProxy(server.port, delay=0.1) as proxy:   # 200 ms round trip
        FlashbackClient(proxy.url, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from types import TracebackType

CHUNK = 65536


class DelayProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port``, ``delay`` s each way."""

    def __init__(self, target_port: int, *, delay: float, target_host: str = "127.0.0.1"
                 ) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="delay-proxy")

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port`` of the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("the delay proxy did not start")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _connection(self, client_in: asyncio.StreamReader,
                          client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.target)
        except OSError:
            client_out.close()
            return
        try:
            await asyncio.sleep(self.delay)  # the connection's own trip there
            await asyncio.gather(self._pipe(client_in, server_out),
                                 self._pipe(server_in, client_out))
        except asyncio.CancelledError:  # the proxy stops: just drop the connection
            for writer in (client_out, server_out):
                writer.close()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy ``source`` to ``sink``, each chunk ``delay`` seconds after it arrived."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.create_task(self._deliver(queue, sink))
        try:
            while chunk := await source.read(CHUNK):
                queue.put_nowait((time.monotonic() + self.delay, chunk))
        except OSError:
            pass
        finally:
            queue.put_nowait((time.monotonic() + self.delay, b""))
            await sender

    @staticmethod
    async def _deliver(queue: asyncio.Queue[tuple[float, bytes]],
                       sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    break
                sink.write(chunk)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()
