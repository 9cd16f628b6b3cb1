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
