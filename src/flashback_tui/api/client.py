"""FlashbackClient: the typed async client of the Flashback AI LLM API.

Methods mirror the platform's TypeScript client, one per endpoint of the contract, named
after its method in snake_case, and return the wire models of :mod:`flashback_tui.api.models`.
They live in one mixin per area (:mod:`~flashback_tui.api.calls_ai`,
:mod:`~flashback_tui.api.calls_auth`, :mod:`~flashback_tui.api.calls_org`,
:mod:`~flashback_tui.api.calls_repos`, :mod:`~flashback_tui.api.calls_policies`) over the
transport of :mod:`flashback_tui.api.transport` (pooling, token refresh, retries, ETags,
and the mapping of failures to :mod:`flashback_tui.api.errors`).
"""

from __future__ import annotations

from flashback_tui import USER_AGENT
from flashback_tui.api.calls_ai import AiCalls
from flashback_tui.api.calls_auth import SignInCalls
from flashback_tui.api.calls_org import OrgCalls
from flashback_tui.api.calls_policies import PolicyCalls
from flashback_tui.api.calls_repos import RepoCalls
from flashback_tui.api.transport import (
    DEFAULT_RETRY_DELAYS,
    DEFAULT_TIMEOUT,
    MAX_MESSAGE,
    Tokens,
    TokensCallback,
    normalize_base_url,
)

__all__ = [
    "DEFAULT_RETRY_DELAYS",
    "DEFAULT_TIMEOUT",
    "MAX_MESSAGE",
    "USER_AGENT",
    "FlashbackClient",
    "Tokens",
    "TokensCallback",
    "normalize_base_url",
]


class FlashbackClient(SignInCalls, OrgCalls, AiCalls, RepoCalls, PolicyCalls):
    """An async client of the Flashback AI LLM API (hosted platform or local server).

    Use it as ``async with FlashbackClient(url, token=...) as client:`` or call
    :meth:`aclose` when done. ``transport`` replaces the network transport (tests);
    ``retry_delays`` sets the pauses between the tries of an idempotent GET.
    """
