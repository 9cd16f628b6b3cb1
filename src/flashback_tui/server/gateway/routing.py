"""Routing a repository AI key to its upstream, and the caches of the hot path.

========== ===================================================== ==========================
aiType     upstream                                              credentials
========== ===================================================== ==========================
OPENAI,    ``{endpoint}/chat/completions``, ``{endpoint}/models`` ``Authorization: Bearer``
OTHER
ANTHROPIC  ``{endpoint}/chat/completions`` (Claude's OpenAI SDK    ``x-api-key`` +
           compatibility), ``{endpoint}/models``                 ``anthropic-version``
GOOGLE     ``{endpoint}/openai/chat/completions``,               ``Authorization: Bearer``
           ``{endpoint}/openai/models``
AWS        not supported: 501 with an OpenAI-style error
========== ===================================================== ==========================
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

from flashback_tui.api.models import AiType, check_secret_text
from flashback_tui.server.gateway.errors import openai_error, scrubber
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store.violations import KeyContext

ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Upstream:
    """Where the calls of one key go, with the configuration's credentials opened."""

    route: repo_store.KeyRoute
    chat_url: str
    models_url: str
    host: str
    #: Names a violation records (org, repository, key, key creator); None if unknown.
    context: KeyContext | None = None

    def headers(self) -> dict[str, str]:
        """Request headers with the provider's credentials (built per call, never logged)."""
        creds = self.route.credentials
        secret = creds.secret.get_secret_value() if creds and creds.secret else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.route.ai_type == AiType.ANTHROPIC:
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if secret:
                headers["x-api-key"] = secret
        elif secret:
            headers["Authorization"] = f"Bearer {secret}"
        return headers

    def scrub(self, text: str) -> str:
        """``text`` without the configuration's key or secret."""
        creds = self.route.credentials
        values = [creds.key.get_secret_value() if creds and creds.key else None,
                  creds.secret.get_secret_value() if creds and creds.secret else None]
        return scrubber(values).scrub(text)



def _unsendable(credentials: Any) -> str | None:
    """Why the configuration's stored credentials cannot go to its provider, or None."""
    if not credentials.secret_bound:
        return ("The configuration's secret was given for another endpoint or provider type;"
                " it is never sent elsewhere. Give the secret again for the current endpoint.")
    for value in (credentials.key, credentials.secret):
        if value is not None and check_secret_text(value.get_secret_value()):
            return ("The configuration's stored secret cannot be sent to the provider (it is"
                    " not printable ASCII without spaces); rotate it.")
    return None


def upstream_for(route: repo_store.KeyRoute, context: KeyContext | None = None
                 ) -> Upstream | JSONResponse:
    """The upstream of a key route, or the error to answer with."""
    if route.credentials is None or route.llm_id is None:
        return openai_error(400, f"The repository of this key has no {route.ai_type.value}"
                            " configuration linked.", "invalid_request_error",
                            "no_configuration")
    unsendable = _unsendable(route.credentials)
    if unsendable:
        return openai_error(502, unsendable, "upstream_error", "secret_unusable")
    if route.ai_type == AiType.AWS:
        return openai_error(501, "AWS Bedrock configurations cannot be reached through the"
                            " gateway; link an OPENAI, ANTHROPIC, GOOGLE or OTHER"
                            " configuration.", "invalid_request_error", "unsupported_provider")
    base = route.credentials.endpoint.rstrip("/")
    if route.ai_type == AiType.GOOGLE:
        base += "/openai"
    return Upstream(route=route, chat_url=f"{base}/chat/completions",
                    models_url=f"{base}/models", host=urlsplit(base).netloc,
                    context=context)


class VersionedCache:
    """An in-memory cache whose entries hold for one data version (and at most ``ttl``).

    A value is stored with the data version read *before* it was looked up; it is served
    only while the database still has that version, so any committed change (a revoked key,
    an edited policy, by this server or by the admin CLI) is seen by the next request. The
    TTL bounds how long anything outside the database (e.g. the keyring) may be trusted.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, tuple[int, ...], Any]] = {}

    def get(self, key: str, version: tuple[int, ...]) -> Any:
        """The cached value for ``version``, or None if absent, stale or expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic() or entry[1] != version:
            return None
        return entry[2]

    def put(self, key: str, value: Any, version: tuple[int, ...]) -> None:
        """Store ``value`` as read at ``version``."""
        self._entries[key] = (time.monotonic() + self.ttl, version, value)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
