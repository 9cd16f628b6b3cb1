"""Where a stored secret may go: the origin (scheme, host, port) it was given for.

A configuration's secret is sent only to the origin and provider type it was stored with.
Moving it elsewhere needs the secret again, except a reset to the provider type's official
endpoint (``DEFAULT_ENDPOINTS``) for the same type. Pure functions, no I/O.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flashback_tui.api.models.common import DEFAULT_ENDPOINTS, AiType

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(endpoint: str | None) -> tuple[str, str, int | None] | None:
    if not endpoint or not endpoint.strip():
        return None
    parts = urlsplit(endpoint.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(a: str | None, b: str | None) -> bool:
    """Whether two endpoints share scheme, host and port (default ports made explicit)."""
    return _origin(a) == _origin(b)


def _official(ai_type: object) -> str | None:
    try:
        return DEFAULT_ENDPOINTS.get(AiType(str(ai_type)))
    except ValueError:
        return None


def needs_secret_again(old_endpoint: str | None, old_ai_type: object,
                       new_endpoint: str | None, new_ai_type: object) -> bool:
    """Whether an update from (old endpoint, type) to (new endpoint, type) must carry the
    secret again: the type changed, or the origin did, unless the new endpoint is the type's
    official one (or empty, which means that official endpoint)."""
    if str(old_ai_type) != str(new_ai_type):
        return True
    official = _official(new_ai_type)
    old = old_endpoint or official
    new = new_endpoint or official
    if same_origin(old, new):
        return False
    return not (official is not None and same_origin(new, official))
