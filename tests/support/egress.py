"""Stand-ins for proving what the endpoint policy lets through, without leaving loopback.

``FakeResolver`` answers host names from a table (never the system resolver), so tests can
make ``evil.test`` resolve to 169.254.169.254. ``RecordingBackend`` is the httpcore network
backend under the policy's guard: it records every connection attempt and opens real ones
only to loopback addresses; any other address is refused on the spot (never connected to),
so even a broken guard cannot send traffic off the machine. ``blackholed`` addresses hang
instead, like an unreachable network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore

Answer = Sequence[str] | Callable[[], Sequence[str]]


class FakeResolver:
    """Resolves names from ``table`` (a list of addresses, or a function giving one per call);
    an unknown name raises ``socket.gaierror`` like the system resolver."""

    def __init__(self, table: dict[str, Answer] | None = None, *, hang: bool = False) -> None:
        self.table = dict(table or {})
        self.hang = hang
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if self.hang:
            await asyncio.sleep(3600)
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer() if callable(answer) else answer)


def answers(*sequence: Sequence[str]) -> Callable[[], Sequence[str]]:
    """A table entry that gives each answer in turn, then the last one again."""
    remaining = list(sequence)

    def next_answer() -> Sequence[str]:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return next_answer


class RecordingStream(httpcore.AsyncNetworkStream):
    """A network stream that records the host name TLS is started for."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, backend: RecordingBackend) -> None:
        self._inner = inner
        self._backend = backend

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        self._backend.tls_names.append(server_hostname)
        return await self._inner.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records ``(host, port)`` of every connection attempt; connects to loopback only."""

    def __init__(self, *, blackholed: Iterable[str] = ()) -> None:
        self.connects: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []
        self.blackholed = set(blackholed)
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if host in self.blackholed:
            await asyncio.sleep(3600)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise httpcore.ConnectError(f"the test backend never connects to {host}")
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return RecordingStream(stream, self)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
