"""Command palette entries that switch profile: one per profile in the settings file.

The settings file is read off the event loop when the palette opens. Choosing an entry asks
the app to close the current session and open one on that profile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from flashback_tui.settings import Profile


def switch_label(profile: Profile) -> str:
    """``Switch profile: prod (backend.example.com)``."""
    return f"Switch profile: {profile.name} ({profile.display_url})"


def _profiles() -> list[Profile]:
    from flashback_tui.settings import SettingsError, load_settings

    try:
        return list(load_settings().profiles.values())
    except SettingsError:
        return []


class ProfileCommands(Provider):
    """``Switch profile: NAME`` for every profile but the current one."""

    async def startup(self) -> None:
        self.profiles = await asyncio.to_thread(_profiles)

    def _others(self) -> list[Profile]:
        current = getattr(getattr(self.app, "profile", None), "name", None)
        return [profile for profile in self.profiles if profile.name != current]

    def _switch(self, profile: Profile) -> None:
        app: Any = self.app
        app.switch_profile(profile)

    async def discover(self) -> Hits:
        for profile in self._others():
            yield DiscoveryHit(switch_label(profile), partial(self._switch, profile),
                               help="Close this session and open one on that profile")

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for profile in self._others():
            label = switch_label(profile)
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._switch, profile),
                          help="Close this session and open one on that profile")
