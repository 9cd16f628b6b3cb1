"""Small network helpers shared by the client, the CLI and the local platform (stdlib only)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """True for localhost (and its subdomains) and loopback addresses, bracketed or not."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is loopback (see :func:`is_loopback`)."""
    return is_loopback(urlsplit(url).hostname or "")


def proxy_for(base_url: str) -> str | None:
    """The proxy for ``base_url`` from the environment (stdlib rules), None for direct.

    Loopback hosts never go through a proxy: the embedded platform must stay reachable even
    when a proxy is set for everything else and ``NO_PROXY`` forgets localhost.
    """
    from urllib.request import getproxies, proxy_bypass  # loaded on first use

    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if is_loopback(host):
        return None
    proxy = getproxies().get(parts.scheme)
    if not proxy or proxy_bypass(host):
        return None
    return proxy
