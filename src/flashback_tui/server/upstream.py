"""The local platform's outbound HTTP: one pooled transport per proxy, chosen per host.

Probes and the gateway send through :class:`UpstreamTransport`, an ``httpx`` transport
rather than an ``httpx.AsyncClient``: they need none of the client's cookie, auth-flow,
redirect or hook machinery, and skipping it saves CPU on every call. What the client would
have given them, the proxy environment, is kept: each host goes through the proxy that
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` name for it (loopback hosts always directly),
decided once per host.
"""

from __future__ import annotations

from typing import Any

import httpx

from flashback_tui.net import proxy_for


class UpstreamTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that routes each request through its host's proxy (or none).

    ``options`` (``verify``, ``limits``, ...) are passed to every pool it opens. Redirects are
    never followed: a transport returns them as they are.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._pools: dict[str | None, httpx.AsyncHTTPTransport] = {}
        self._proxies: dict[tuple[bytes, str, int | None], str | None] = {}

    def _pool_for(self, url: httpx.URL) -> httpx.AsyncHTTPTransport:
        origin = (url.raw_scheme, url.host, url.port)
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(f"{url.scheme}://{url.netloc.decode('ascii')}")
        proxy = self._proxies[origin]
        pool = self._pools.get(proxy)
        if pool is None:
            pool = self._pools[proxy] = httpx.AsyncHTTPTransport(proxy=proxy, **self._options)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool_for(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
