"""The OpenAI-compatible gateway: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Applications call it like OpenAI (``base_url=<server>/v1``) with a repository AI API key
secret as ``Authorization: Bearer <secret>``. A call goes to the repository's linked
configuration of the key's ``aiType`` with that configuration's decrypted secret
(:mod:`.routing`). Before forwarding, the prompt is checked against every policy that
applies (:mod:`.enforcement`): a blocking match answers 403 and is never forwarded. Streams
are relayed event by event (:mod:`.relay`). Errors are OpenAI-style bodies (:mod:`.errors`).
Every chat call is counted (:mod:`flashback_tui.server.accounting`); model listings are not.

Modules, each depending only on those before it: ``errors`` -> ``routing`` -> ``version``
(the data version the caches follow) -> ``relay`` -> ``enforcement`` -> ``core`` (the
:class:`Gateway`) -> ``hooks`` (routes, middleware and :data:`router`).
"""

from __future__ import annotations

from flashback_tui.server.gateway.core import CACHE_TTL, Gateway
from flashback_tui.server.gateway.errors import openai_error, provider_error
from flashback_tui.server.gateway.hooks import USAGE_READ_PATHS, GatewayHooks, router
from flashback_tui.server.gateway.relay import DRAIN_SECONDS, RelayResponse, StreamRelay
from flashback_tui.server.gateway.routing import Upstream, VersionedCache, upstream_for

__all__ = [
    "CACHE_TTL", "DRAIN_SECONDS", "USAGE_READ_PATHS", "Gateway", "GatewayHooks",
    "RelayResponse", "StreamRelay", "Upstream", "VersionedCache", "openai_error",
    "provider_error", "router", "upstream_for",
]
