"""ApiSession: the transport under FlashbackClient (requests, tokens, retries, decoding).

One long-lived ``httpx.AsyncHTTPTransport`` (keep-alive, one connection pool) serves every
call. Requests go through the transport itself: the client needs none of ``AsyncClient``'s
cookie, auth-flow, redirect or hook machinery, and skipping it saves CPU on every call (it
shows when a thousand configurations are validated at once). Proxies come from the usual
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` variables; loopback hosts (the embedded platform)
are always reached directly.

Failures are the exceptions of :mod:`flashback_tui.api.errors`, never ``httpx`` ones:

- an HTTP error status becomes :func:`~flashback_tui.api.errors.error_for_status` with the
  server's message (``message``, or a repository error's ``error_message``) and its
  ``error_code`` when the body carries one;
- a refused/reset connection becomes ``FlashbackConnectionError`` and a missing answer
  ``FlashbackTimeoutError``, both raised ``from`` the ``httpx`` cause;
- an answer that is not JSON or not shaped like the contract is ``UnexpectedResponseError``.

Each exception carries the request as ``METHOD /path`` only: no headers, no body, no query.

With a refresh token, a 401 triggers one refresh (``POST /user/refresh``, done by the
subclass's :meth:`ApiSession.refresh`) and one retry; concurrent 401s share a single refresh.
Idempotent GETs are retried with a short backoff on connection failures and 5xx answers
(3 tries in all); POST, PUT and DELETE never are. A read timeout is not retried either: a
server too slow to answer is not helped by more load.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from flashback_tui import USER_AGENT
from flashback_tui.api.error_text import (
    MAX_MESSAGE,
    display_url,
    is_error_body,
    not_a_platform,
    server_error,
    shape_problems,
    transport_reason,
)
from flashback_tui.api.errors import (
    FlashbackConnectionError,
    FlashbackError,
    FlashbackTimeoutError,
    UnauthorizedError,
    UnexpectedResponseError,
    error_for_status,
)
from flashback_tui.api.models import Timestamp, check_endpoint
from flashback_tui.net import proxy_for

__all__ = ["MAX_MESSAGE", "ApiSession", "Query", "Tokens", "TokensCallback", "query",
           "server_error", "shape_problems"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
#: Pauses between the tries of an idempotent GET: 3 tries in all.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5)
#: GET answers kept for conditional requests (one per path and query).
MAX_HELD_ANSWERS = 16

ResponseT = TypeVar("ResponseT", bound=BaseModel)
JsonBody = dict[str, Any] | Callable[[], dict[str, Any]] | None

#: Transport failures worth another try of an idempotent GET: the request never reached the
#: server, or the connection broke. A read timeout is deliberately not among them.
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)

_timestamp_adapter: TypeAdapter[datetime] = TypeAdapter(Timestamp)


@dataclass(frozen=True)
class Tokens:
    """A fresh pair of tokens, as handed to ``on_tokens_refreshed`` for safekeeping."""

    access_token: SecretStr
    refresh_token: SecretStr
    #: Expiry of the access token, Unix time in milliseconds.
    expires_at: int


#: Called with the new tokens after every refresh; may be a plain or an async function.
TokensCallback = Callable[[Tokens], Awaitable[None] | None]


def as_secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def normalize_base_url(base_url: str) -> str:
    """The base URL stripped of spaces and trailing slashes; ValueError if not http(s)."""
    try:
        return check_endpoint(base_url)
    except ValueError as exc:
        raise ValueError(f"invalid base URL: {exc}") from None


def path_id(value: str) -> str:
    """An id made safe for one path segment (so ``../x`` cannot reach another route)."""
    text = str(value).strip()
    if not text:
        raise ValueError("id must not be empty")
    return quote(text, safe="")


def _iso(value: datetime | str) -> str:
    """A query timestamp: datetimes become ISO 8601 UTC with ms, strings pass as given."""
    if isinstance(value, datetime):
        return _timestamp_adapter.dump_python(value, mode="json")
    return value


#: A query value: lists become one CSV parameter, booleans ``true``/``false``, datetimes ISO.
QueryValue = str | int | bool | datetime | Iterable[str] | None
Query = dict[str, str]


def query(pairs: Mapping[str, QueryValue]) -> Query | None:
    """The query of a call, built as the TypeScript client builds it.

    Empty values are left out (``None``, ``""``, an empty list); a list is joined with ``,``
    into one parameter; booleans are ``true``/``false``; numbers decimal; datetimes ISO 8601
    UTC with milliseconds. None when nothing is left.
    """
    built: Query = {}
    for name, value in pairs.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            built[name] = "true" if value else "false"
        elif isinstance(value, int):
            built[name] = str(value)
        elif isinstance(value, datetime | str):
            built[name] = _iso(value)
        else:
            items = [str(item) for item in value]
            if items:
                built[name] = ",".join(items)
    return built or None


class ApiSession:
    """The request machinery and the tokens of one client; the calls live in mixins.

    ``transport`` replaces the network transport (tests); ``retry_delays`` sets the pauses
    between the tries of an idempotent GET. A subclass provides :meth:`refresh`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | SecretStr | None = None,
        refresh_token: str | SecretStr | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        on_tokens_refreshed: TokensCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        self._base_url = normalize_base_url(base_url)
        self._token = as_secret(token)
        self._refresh_token = as_secret(refresh_token)
        self._expires_at: int | None = None
        self._timeout = float(timeout)
        self._on_tokens_refreshed = on_tokens_refreshed
        self._transport = transport
        self._retry_delays = tuple(retry_delays)
        self._http: httpx.AsyncBaseTransport | None = None
        self._answers: OrderedDict[tuple[str, tuple[tuple[str, str], ...]],
                                   tuple[str, BaseModel]] = OrderedDict()
        self._base_headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
                              "Accept-Encoding": "gzip, deflate"}
        self._timeouts = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"),
                                                   self._timeout)}
        self._refresh_lock = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={display_url(self._base_url)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. A later call opens a new one."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    def _pool(self) -> httpx.AsyncBaseTransport:
        """The transport every request goes through (opened on first use)."""
        if self._http is None:
            self._http = self._transport or httpx.AsyncHTTPTransport(
                proxy=proxy_for(self._base_url)
            )
        return self._http

    # -- credentials ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API base URL, without a trailing slash."""
        return self._base_url

    @property
    def timeout(self) -> float:
        """Seconds to wait for the backend on each request."""
        return self._timeout

    @property
    def token(self) -> SecretStr | None:
        """The current access token."""
        return self._token

    @property
    def refresh_token(self) -> SecretStr | None:
        """The current refresh token, if any."""
        return self._refresh_token

    @property
    def expires_at(self) -> int | None:
        """Expiry of the access token in Unix ms, when the client obtained it itself."""
        return self._expires_at

    def set_tokens(
        self,
        access_token: str | SecretStr | None,
        refresh_token: str | SecretStr | None = None,
        expires_at: int | None = None,
    ) -> None:
        """Use these tokens from now on (``None`` clears one)."""
        self._token = as_secret(access_token)
        self._refresh_token = as_secret(refresh_token)
        self._expires_at = expires_at

    def clear_tokens(self) -> None:
        """Forget every token held by this client."""
        self.set_tokens(None, None, None)

    async def refresh(self) -> Any:
        """Trade the refresh token for new tokens (provided by the sign-in calls)."""
        raise NotImplementedError

    async def _report_tokens(self, tokens: Tokens) -> None:
        """Hand new tokens to ``on_tokens_refreshed``; its failure never fails the call."""
        if self._on_tokens_refreshed is None:
            return
        try:
            outcome = self._on_tokens_refreshed(tokens)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            log.warning("could not store refreshed tokens: %s", type(exc).__name__)

    # -- the request machinery ------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        model: type[ResponseT],
        *,
        params: Query | None = None,
        json: JsonBody = None,
        authenticated: bool = True,
    ) -> ResponseT:
        """Send one API request (refreshing once on 401) and decode the answer.

        A GET whose earlier answer came with an ETag is sent conditionally; on ``304 Not
        Modified`` that earlier answer is returned again (the same object: answers are
        read-only), saving the download and the parsing.
        """
        label = f"{method} {path}"
        key = (path, tuple(sorted((params or {}).items()))) if method == "GET" else None
        held = self._answers.get(key) if key is not None else None
        etag = held[0] if held is not None else None
        response, sent_token = await self._send(method, path, label, params, json,
                                                authenticated, etag)
        if (
            response.status_code == 401
            and authenticated
            and self._refresh_token is not None
            and await self._refresh_after_401(sent_token)
        ):
            response, _ = await self._send(method, path, label, params, json, authenticated,
                                           etag)
        if held is not None and response.status_code == 304:
            self._answers.move_to_end(key)
            return held[1]  # type: ignore[return-value] - stored for this path and model
        answer = self._decode(response, model, label)
        if key is not None:
            self._remember(key, response.headers.get("etag"), answer)
        return answer

    def _remember(self, key: tuple[str, tuple[tuple[str, str], ...]], etag: str | None,
                  answer: BaseModel) -> None:
        """Keep a GET answer with its ETag for the next conditional GET (a few, LRU)."""
        if not etag:
            self._answers.pop(key, None)
            return
        self._answers[key] = (etag, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > MAX_HELD_ANSWERS:
            self._answers.popitem(last=False)

    async def _refresh_after_401(self, rejected: SecretStr | None) -> bool:
        """Refresh once for any number of concurrent 401s; True when a retry makes sense."""
        async with self._refresh_lock:
            if not _same_secret(self._token, rejected):
                return True  # another call refreshed while this one waited
            if self._refresh_token is None:
                return False
            try:
                await self.refresh()
            except UnauthorizedError:
                self._refresh_token = None  # rejected for good; do not try it again
                return False
            return True

    async def _send(
        self,
        method: str,
        path: str,
        label: str,
        params: Query | None,
        json: JsonBody,
        authenticated: bool,
        etag: str | None = None,
    ) -> tuple[httpx.Response, SecretStr | None]:
        """One request, with the retries an idempotent GET is allowed."""
        delays = self._retry_delays if method == "GET" else ()
        for attempt in range(len(delays) + 1):
            is_last = attempt == len(delays)
            token = self._token if authenticated else None
            body = json() if callable(json) else json
            try:
                response = await self._exchange(method, path, params, body, token, etag)
            except httpx.RequestError as exc:
                if is_last or not isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS):
                    raise self._transport_error(exc, label) from exc
            else:
                if response.status_code < 500 or is_last:
                    return response, token
            await asyncio.sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover

    async def _exchange(self, method: str, path: str, params: Query | None,
                        body: Any, token: SecretStr | None, etag: str | None = None
                        ) -> httpx.Response:
        """One HTTP exchange, the answer read in full (redirects are never followed)."""
        headers = self._base_headers
        if token is not None or etag is not None:
            headers = dict(headers)
            if token is not None:
                headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            if etag is not None:
                headers["If-None-Match"] = etag
        request = httpx.Request(method, self._base_url + path, params=params, json=body,
                                headers=headers, extensions=self._timeouts)
        response = await self._pool().handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _transport_error(self, exc: httpx.RequestError, label: str) -> FlashbackError:
        """The client exception for an ``httpx`` transport failure."""
        where = display_url(self._base_url)
        if isinstance(exc, httpx.TimeoutException):
            return FlashbackTimeoutError(
                f"no answer from {where} within {self._timeout:g} s", request=label
            )
        if isinstance(exc, httpx.DecodingError):
            return UnexpectedResponseError(
                f"could not decode the answer from {where}", request=label
            )
        return FlashbackConnectionError(f"cannot reach {where}: {transport_reason(exc)}",
                                        request=label)

    @staticmethod
    def _decode(response: httpx.Response, model: type[ResponseT], label: str) -> ResponseT:
        """The answer as ``model``, or the exception its status or shape calls for."""
        status = response.status_code
        if status in (404, 405) and not is_error_body(response):
            raise not_a_platform(response, label)
        if not 200 <= status < 300:
            message, code = server_error(response)
            raise error_for_status(status, message, label, error_code=code)
        try:
            # Parsing and validating in one pass (pydantic-core) is the fast path for big lists.
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            # ``from None``: the validation error would echo the answer, tokens included.
            if any(error["type"] == "json_invalid" for error in exc.errors(include_input=False)):
                message = "the answer is not JSON; is this a Flashback API URL?"
            else:
                message = f"the answer does not follow the API contract ({shape_problems(exc)})"
            raise UnexpectedResponseError(message, status=status, request=label) from None


def _same_secret(a: SecretStr | None, b: SecretStr | None) -> bool:
    if a is None or b is None:
        return a is b
    return hmac.compare_digest(a.get_secret_value(), b.get_secret_value())
