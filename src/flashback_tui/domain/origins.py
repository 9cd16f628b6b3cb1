"""Where a stored secret may go: the origin rule shared by the platform, the TUI and the CLI.

A configuration's secret was given for one origin (scheme, host and port of its endpoint) and
one provider type. Moving the configuration to another origin, or to another provider type,
must carry the secret again; otherwise whoever edits the endpoint could have the stored
secret sent to a host of their choosing. A reset to the provider type's official endpoint is
the one exception: that origin is the provider's own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of ``url``, the port made explicit; None if it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme)


def same_origin(a: str | None, b: str | None) -> bool:
    """Whether two endpoints share scheme, host and port (default ports made explicit)."""
    if a is None or b is None:
        return a is b
    first, second = _origin(a), _origin(b)
    return first is not None and first == second


def _official(ai_type: str | None) -> str | None:
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
    official = _official(ai_type)
    return not (official is not None and same_origin(new_endpoint, official))
