"""Origins of provider endpoints, and when a stored secret must be given again.

A configuration's secret is bound to the origin (scheme, host, port) and the provider type
it was given for. Moving the configuration to another origin or type without sending the
secret again would hand the stored secret to a place its owner never chose, so the local
platform refuses that; the TUI and the CLI use :func:`needs_secret_again` to ask for the
secret before they send such a change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an absolute URL, lower-cased, default ports filled in.

    None when the URL has no scheme or host (such a URL shares no origin with anything).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not scheme or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme)


def same_origin(a: str | None, b: str | None) -> bool:
    """Whether two URLs share scheme, host and port (False if either has no origin)."""
    if a is None or b is None:
        return False
    first, second = origin_of(a), origin_of(b)
    return first is not None and first == second


def needs_secret_again(old_endpoint: str | None, old_type: str, new_endpoint: str | None,
                       new_type: str) -> bool:
    """Whether moving from ``old`` to ``new`` must come with the secret again.

    True when the provider type changes or the endpoint's origin does. (The local platform
    also accepts, without the secret, a reset to the provider type's official endpoint.)
    """
    return str(old_type) != str(new_type) or not same_origin(old_endpoint, new_endpoint)
