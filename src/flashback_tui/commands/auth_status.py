"""``auth status``: per profile, where its credential lives and when its token expires.

Nothing is sent over the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands.auth_common import (
    default_profile_name,
    format_expiry,
    load_settings_or_exit,
    named_profile,
)
from flashback_tui.commands.common import (
    ExitCode,
    SecretSafeCommand,
    SecretSafeGroup,
    connection_options,
    options_of,
)

if TYPE_CHECKING:
    from flashback_tui.settings import Profile


@click.group(cls=SecretSafeGroup)
def auth() -> None:
    """Inspect sign-in state (see also `login` and `logout`)."""


@dataclass
class ProfileStatus:
    """What ``auth status`` knows about one profile (no token in it)."""

    profile: str
    default: bool
    url: str | None
    color: str | None
    signed_in: bool
    storage: str | None  # "embedded", "environment", "keyring", "file" or None
    where: str | None
    user: str | None
    expires_at: int | None
    can_refresh: bool
    notes: list[str]

    @property
    def plaintext(self) -> bool:
        """The token sits in a plaintext file."""
        return self.storage == "file"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape (camelCase, like the other commands)."""
        return {
            "profile": self.profile, "default": self.default, "url": self.url,
            "color": self.color, "signedIn": self.signed_in, "storage": self.storage,
            "where": self.where, "plaintext": self.plaintext, "user": self.user,
            "expiresAt": self.expires_at, "canRefresh": self.can_refresh, "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """The human-readable block."""
        title = self.profile + (" (default)" if self.default else "")
        if self.color:
            title += f"  [colour: {self.color}]"
        lines = [title, f"  url:     {self.url or 'embedded local platform'}"]
        if self.storage == "embedded":
            lines += [f"  user:    {self.user}", "  expires: never (a fresh token each start)"]
        elif self.signed_in:
            lines += [f"  user:    {self.user or 'unknown'}",
                      "  expires: " + format_expiry(self.expires_at,
                                                    has_refresh=self.can_refresh)]
        if self.signed_in:
            lines.append(f"  stored:  {self.where}")
        else:
            lines.append(f"  stored:  nowhere: not signed in (flashback-tui login --profile "
                         f"{self.profile})")
        if self.plaintext:
            lines.append("  warning: the token is stored in PLAINTEXT; anyone with access to "
                         "this account can read it")
        lines += [f"  note:    {note}" for note in self.notes]
        return lines


def profile_status(profile: Profile, default_name: str | None) -> ProfileStatus:
    """Walk the credential chain for one profile (no network call)."""
    from flashback_tui.credentials import EMBEDDED_SOURCE, FileStore, KeyringStore, find_credential

    status = ProfileStatus(
        profile=profile.name, default=profile.name == default_name, url=profile.url,
        color=profile.color, signed_in=False, storage=None, where=None, user=None,
        expires_at=None, can_refresh=False, notes=[],
    )
    if profile.is_local:
        status.signed_in, status.storage, status.where = True, "embedded", EMBEDDED_SOURCE
        status.user = "admin@localhost"
        return status
    found = find_credential(profile)
    status.notes = found.notes
    resolved = found.resolved
    if resolved is None:
        return status
    credential = resolved.credential
    status.signed_in, status.where = True, resolved.where
    status.storage = ("environment" if resolved.store is None
                      else "keyring" if isinstance(resolved.store, KeyringStore)
                      else "file" if isinstance(resolved.store, FileStore) else "other")
    status.user = (None if resolved.store is None
                   else credential.email or profile.email)
    status.expires_at = credential.expires_at
    status.can_refresh = credential.refresh_token is not None
    return status


@auth.command("status", cls=SecretSafeCommand)
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Per profile: URL, user, token expiry and exactly where the credential lives.

    With --profile (or the global one), only that profile; exit code 3 when it has no
    credential. Nothing is sent over the network.
    """
    options = options_of(ctx)
    settings = load_settings_or_exit()
    default_name = default_profile_name(settings)
    name = options.get("profile")
    if options.get("url") and not name:
        from flashback_tui.connect import resolve_profile

        profiles = [resolve_profile(None, options["url"])]
    elif name:
        profiles = [named_profile(settings, name)]
    else:
        profiles = list(settings.profiles.values())
    statuses = [profile_status(profile, default_name) for profile in profiles]
    if as_json:
        click.echo(json.dumps([item.to_json() for item in statuses], indent=2))
    else:
        click.echo("\n\n".join("\n".join(item.lines()) for item in statuses))
    if len(statuses) == 1 and not statuses[0].signed_in:
        ctx.exit(int(ExitCode.AUTHENTICATION))
