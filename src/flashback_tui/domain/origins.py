"""Where a stored secret may go: the origin rule shared by the platform, the TUI and the CLI.

A configuration's secret was given for one origin (scheme, host and port of its endpoint) and
one provider type. Moving the configuration to another origin, or to another provider type,
must carry the secret again; otherwise whoever edits the endpoint could have the stored
secret sent to a host of their choosing. A reset to the provider type's official endpoint is
the one exception: that origin is the provider's own.

:func:`changes_origin_or_type` is the strict test (the platform never sends a secret where
it fails); :func:`needs_secret_again` is what an editor asks before sending a change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType

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
    """Whether two endpoints share scheme, host and port (two missing ones count as one)."""
    if a is None or b is None:
        return a is b
    first, second = origin_of(a), origin_of(b)
    return first is not None and first == second


def changes_origin_or_type(old_endpoint: str | None, old_type: str, new_endpoint: str | None,
                           new_type: str) -> bool:
    """Whether (new endpoint, type) differs from (old endpoint, type) in origin or type."""
    return str(old_type) != str(new_type) or not same_origin(old_endpoint, new_endpoint)


def official_endpoint(ai_type: str | None) -> str | None:
    """The provider type's own endpoint (None for OTHER or a type this version lacks)."""
    try:
        return DEFAULT_ENDPOINTS.get(AiType(str(ai_type)))
    except ValueError:
        return None


def needs_secret_again(old_endpoint: str | None, old_ai_type: str | None,
                       new_endpoint: str | None, new_ai_type: str | None) -> bool:
    """Whether a change from (old endpoint, type) to (new endpoint, type) must carry the secret.

    ``None`` for a new value means "unchanged". A change of provider type always needs it;
    a change of origin needs it unless the new endpoint is the type's official one.
    """
    ai_type = new_ai_type if new_ai_type is not None else old_ai_type
    if new_ai_type is not None and str(new_ai_type) != str(old_ai_type):
        return True
    if new_endpoint is None or same_origin(old_endpoint, new_endpoint):
        return False
    official = official_endpoint(ai_type)
    return not (official is not None and same_origin(new_endpoint, official))
