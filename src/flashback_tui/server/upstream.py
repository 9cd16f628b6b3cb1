"""The local platform's outbound HTTP: one pooled transport per proxy, chosen per host.

Probes and the gateway send through :class:`UpstreamTransport`, an ``httpx`` transport
rather than an ``httpx.AsyncClient``: they need none of the client's cookie, auth-flow,
redirect or hook machinery, and skipping it saves CPU on every call. What the client would
have given them, the proxy environment, is kept: each host goes through the proxy that
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` name for it (loopback hosts always directly),
decided once per host. One TLS context serves every pool: building one costs ~60 ms of
CPU, so it is built once, in a thread (:func:`warm_up`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx

from flashback_tui.net import proxy_for

_ssl_context: ssl.SSLContext | None = None


def warm_up() -> None:
    """Build the shared TLS context. Blocking (run it in a thread); safe to call again."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()


async def shared_ssl_context() -> ssl.SSLContext:
    """The TLS context every pool verifies with, built off the event loop on first use."""
    if _ssl_context is None:
        await asyncio.to_thread(warm_up)
    assert _ssl_context is not None
    return _ssl_context


class UpstreamTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that routes each request through its host's proxy (or none).

    ``options`` (``limits``, ...) are passed to every pool it opens; without ``verify``,
    pools verify TLS with :func:`shared_ssl_context`. Redirects are never followed: a
    transport returns them as they are.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._pools: dict[str | None, httpx.AsyncHTTPTransport] = {}
        self._proxies: dict[tuple[bytes, str, int | None], str | None] = {}

    async def _pool_for(self, url: httpx.URL) -> httpx.AsyncHTTPTransport:
        origin = (url.raw_scheme, url.host, url.port)
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(f"{url.scheme}://{url.netloc.decode('ascii')}")
        proxy = self._proxies[origin]
        pool = self._pools.get(proxy)
        if pool is None:
            options = self._options
            if "verify" not in options:
                options = {**options, "verify": await shared_ssl_context()}
            # Another request may have opened this pool while the context was being built.
            pool = self._pools.get(proxy)
            if pool is None:
                pool = self._pools[proxy] = httpx.AsyncHTTPTransport(proxy=proxy, **options)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await (await self._pool_for(request.url)).handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
