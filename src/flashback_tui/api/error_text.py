"""The words of the client's errors: what the platform said, or what went wrong on the way.

A server's message is cut to one screen line and put in plain words (no validation jargon);
a transport failure is described by what it means ("nothing answers there"), never by the
library's own text; a 404 or 405 without the platform's error body says that the URL may not
be a Flashback platform. Never a header, a body value or a secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from flashback_tui.api.errors import UnexpectedResponseError, plain_words

#: A server message longer than this is cut (it ends up on one line of a screen).
MAX_MESSAGE = 500


def display_url(url: str) -> str:
    """The URL without any ``user:password@`` part, for messages and repr."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def server_error(response: httpx.Response) -> tuple[str, str | None]:
    """The message and ``error_code`` of an error answer (or a neutral description).

    The message is a repository error's ``error_message``, else ``message``, else
    ``detail``/``error``; the code is ``error_code`` (sign-in and repository errors).
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    code = None
    if isinstance(data, dict):
        raw_code = data.get("error_code")
        code = raw_code.strip()[:100] if isinstance(raw_code, str) and raw_code.strip() else None
        for field in ("error_message", "message", "detail", "error"):
            text = data.get(field)
            if isinstance(text, str) and text.strip():
                return _cut(plain_words(text)), code
    if code is not None:
        return code, code
    reason = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {reason}", None


#: What a transport failure means, by words of its message (first match wins).
_TRANSPORT_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("name or service not known", "nodename nor servname", "getaddrinfo failed",
      "temporary failure in name resolution", "no address associated"),
     "the host name does not resolve (check the URL)"),
    (("certificate_verify_failed", "certificate verify failed", "self-signed", "self signed"),
     "its TLS certificate is not trusted"),
    (("wrong version number", "ssl", "tls"), "the TLS handshake failed (http:// vs https://?)"),
    (("connection refused", "all connection attempts failed", "errno 111", "errno 61"),
     "nothing answers there (connection refused)"),
    (("network is unreachable", "no route to host"), "the network cannot reach it"),
    (("connection reset", "server disconnected", "remote end closed", "peer closed"),
     "the connection was cut before an answer came"),
)


def transport_reason(exc: Exception) -> str:
    """A transport failure in plain words (never the library's own phrasing)."""
    text = f"{exc} {exc.__cause__ or ''}".lower()
    for needles, reason in _TRANSPORT_REASONS:
        if any(needle in text for needle in needles):
            return reason
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused the connection (check HTTPS_PROXY / HTTP_PROXY)"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the URL's scheme is not http:// or https://"
    return "the connection failed"


def is_error_body(response: httpx.Response) -> bool:
    """Whether an error answer is the platform's JSON error body (``success`` false)."""
    if "application/json" not in response.headers.get("content-type", ""):
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("success") is False


def not_a_platform(response: httpx.Response, label: str) -> UnexpectedResponseError:
    """A 404/405 without the platform's error body: the URL is likely not a platform."""
    path = label.split(" ", 1)[-1]
    url = str(response.request.url).split("?", 1)[0]
    base = display_url(url[: len(url) - len(path)] if url.endswith(path) else url)
    return UnexpectedResponseError(
        f"{base} answered {response.status_code} for {path}: is this a Flashback platform?",
        status=response.status_code, request=label)


def shape_problems(exc: ValidationError) -> str:
    """Where an answer departs from the contract, without echoing any of its values."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:3]:
        location = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(plain_words(f"{location}: {error['msg']}"))
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
