"""The local platform's outbound HTTP: one pooled transport per proxy, chosen per host.

Probes and the gateway send through :class:`UpstreamTransport`, an ``httpx`` transport
rather than an ``httpx.AsyncClient``: they need none of the client's cookie, auth-flow,
redirect or hook machinery, and skipping it saves CPU on every call. What the client would
have given them, the proxy environment, is kept: each host goes through the proxy that
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` name for it (loopback hosts always directly),
decided once per host. One TLS context serves every pool: building one costs ~60 ms of
CPU, so it is built once, in a thread (:func:`warm_up`), never on the event loop.

Every connection obeys the endpoint policy (:mod:`flashback_tui.server.egress`). A direct
connection is opened by :class:`GuardedBackend`: it resolves the host itself, checks every
address it got and connects only to those, so the address checked is the address connected
to, whatever the name answers next time. TLS still verifies and sends SNI for the host name
of the URL (httpcore starts TLS on the opened stream with the origin's host name, not the
address). A refused connection raises :class:`RefusedConnection`, which is both an
:class:`~flashback_tui.server.egress.EndpointRefused` and an ``httpx.ConnectError``.

Limitation: through a forward proxy the TCP connection goes to the proxy, which resolves the
target itself. The target host is then checked before each request (its resolved addresses,
remembered for :data:`PROXIED_CHECK_TTL` seconds), best effort: a name that does not resolve
here is let through, and the proxy may get another answer than this check did. The proxy's
own address is the operator's choice and is not checked.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from flashback_tui.net import proxy_for
from flashback_tui.server.egress import EndpointPolicy, EndpointRefused

#: Seconds before a second connection attempt starts while the first is still pending.
HAPPY_EYEBALLS_DELAY = 0.25
#: How long the check of a proxied host (name resolution included) is reused.
PROXIED_CHECK_TTL = 30.0
_PROXIED_CHECKS_MAX = 4096

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


class RefusedConnection(EndpointRefused, httpx.ConnectError):
    """A connection the endpoint policy refused: catch it as ``EndpointRefused`` (its
    ``reason`` names the rule) or, like any failed connection, as ``httpx.ConnectError``."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    The host is resolved with the policy's resolver and every address is checked before any
    connection is attempted; then the allowed addresses are tried the way ``anyio`` does
    (an IPv6 one first, then an IPv4 one, a new attempt every :data:`HAPPY_EYEBALLS_DELAY`
    seconds or as soon as one fails) through ``inner``, which opens the connections.
    """

    def __init__(
        self, policy: EndpointPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                try:
                    addresses = await self.policy.allowed_addresses(host, port)
                except EndpointRefused as refused:
                    raise RefusedConnection(refused.reason) from None
                except OSError as exc:  # the name does not resolve
                    raise httpcore.ConnectError(str(exc)) from exc
                return await self._first_connection(
                    _happy_order(addresses), port, local_address=local_address,
                    socket_options=socket_options,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout("no connection in time") from exc

    async def _first_connection(
        self, addresses: list[str], port: int, **options: Any
    ) -> httpcore.AsyncNetworkStream:
        attempts: list[asyncio.Task[httpcore.AsyncNetworkStream]] = []
        winner: httpcore.AsyncNetworkStream | None = None
        try:
            for index, address in enumerate(addresses):
                attempts.append(
                    asyncio.create_task(self._inner.connect_tcp(address, port, **options))
                )
                more = index + 1 < len(addresses)
                winner = await _wait_for_one(attempts, HAPPY_EYEBALLS_DELAY if more else None)
                if winner is not None:
                    return winner
        finally:
            await _discard(attempts, keep=winner)
        errors = [task.exception() for task in attempts if not task.cancelled()]
        raise next(error for error in errors if error is not None)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _happy_order(addresses: list[str]) -> list[str]:
    """The first IPv6 address, then the first IPv4 one, then the rest in resolver order."""
    v6 = next((a for a in addresses if ":" in a), None)
    v4 = next((a for a in addresses if ":" not in a), None)
    if v6 is None or v4 is None:
        return addresses
    return [v6, v4, *(a for a in addresses if a not in (v6, v4))]


def _connected(
    attempts: list[asyncio.Task[httpcore.AsyncNetworkStream]],
) -> httpcore.AsyncNetworkStream | None:
    for task in attempts:
        if task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
    return None


async def _wait_for_one(
    attempts: list[asyncio.Task[httpcore.AsyncNetworkStream]], delay: float | None
) -> httpcore.AsyncNetworkStream | None:
    """A connected stream; None once ``delay`` passed or an attempt failed (every attempt
    failed, when ``delay`` is None)."""
    while (stream := _connected(attempts)) is None:
        running = [task for task in attempts if not task.done()]
        if not running:
            return None
        await asyncio.wait(running, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        if delay is not None:
            return _connected(attempts)
    return stream


async def _discard(
    attempts: list[asyncio.Task[httpcore.AsyncNetworkStream]],
    keep: httpcore.AsyncNetworkStream | None,
) -> None:
    """Cancel the attempts still running and close every connection but ``keep``."""
    for task in attempts:
        task.cancel()
    for outcome in await asyncio.gather(*attempts, return_exceptions=True):
        if isinstance(outcome, httpcore.AsyncNetworkStream) and outcome is not keep:
            await outcome.aclose()


def _guard(transport: httpx.AsyncHTTPTransport, backend: GuardedBackend) -> None:
    """Make the direct pool of ``transport`` open its connections through ``backend``.

    httpx 0.28 takes no network backend, so it is set on the httpcore pool it built; if that
    pool is not there, this fails rather than let unchecked connections through.
    """
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore.AsyncConnectionPool or not hasattr(pool, "_network_backend"):
        raise RuntimeError("cannot check outbound connections with this httpx/httpcore")
    pool._network_backend = backend


class UpstreamTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that routes each request through its host's proxy (or none).

    ``options`` (``limits``, ...) are passed to every pool it opens; without ``verify``,
    pools verify TLS with :func:`shared_ssl_context`. Redirects are never followed: a
    transport returns them as they are. ``policy`` decides which endpoints may be reached
    (by default the one the environment names); ``network_backend`` opens the connections
    the policy allows (httpcore's own by default; tests pass recording ones).
    """

    def __init__(
        self,
        *,
        policy: EndpointPolicy | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        **options: Any,
    ) -> None:
        self.policy = EndpointPolicy.from_env() if policy is None else policy
        self._backend = GuardedBackend(self.policy, network_backend)
        self._options = options
        self._pools: dict[str | None, httpx.AsyncHTTPTransport] = {}
        self._proxies: dict[tuple[bytes, str, int | None], str | None] = {}
        self._proxied_checks: dict[tuple[str, int], tuple[float, str | None]] = {}

    def _proxy_for(self, url: httpx.URL) -> str | None:
        origin = (url.raw_scheme, url.host, url.port)
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(f"{url.scheme}://{url.netloc.decode('ascii')}")
        return self._proxies[origin]

    async def _pool_for(self, proxy: str | None) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(proxy)
        if pool is None:
            options = self._options
            if "verify" not in options:
                options = {**options, "verify": await shared_ssl_context()}
            # Another request may have opened this pool while the context was being built.
            pool = self._pools.get(proxy)
            if pool is None:
                pool = httpx.AsyncHTTPTransport(proxy=proxy, **options)
                if proxy is None:
                    _guard(pool, self._backend)
                self._pools[proxy] = pool
        return pool

    async def _check_proxied(self, url: httpx.URL) -> None:
        """Refuse a proxied request whose target the policy refuses (best effort)."""
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        now = time.monotonic()
        checked = self._proxied_checks.get((host, port))
        if checked is None or checked[0] <= now:
            if len(self._proxied_checks) >= _PROXIED_CHECKS_MAX:
                self._proxied_checks.clear()
            checked = (now + PROXIED_CHECK_TTL, await self.policy.check_destination(host, port))
            self._proxied_checks[(host, port)] = checked
        if checked[1] is not None:
            raise RefusedConnection(checked[1])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._proxy_for(request.url)
        pool = await self._pool_for(proxy)
        if proxy is not None:
            await self._check_proxied(request.url)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
