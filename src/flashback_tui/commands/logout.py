"""``logout``: revoke the profile's session and forget its stored credential."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from flashback_tui.commands.auth_common import (
    echo_notes,
    load_settings_or_exit,
    named_profile,
    revoke,
)
from flashback_tui.commands.common import (
    ExitCode,
    SecretSafeCommand,
    connection_options,
    options_of,
)

if TYPE_CHECKING:
    from flashback_tui.credentials import StoredCredential
    from flashback_tui.settings import Profile


def _stored_credential(profile: Profile) -> tuple[StoredCredential | None, list[str]]:
    """The profile's credential in the keyring or the file (the environment is not a store)."""
    from flashback_tui.credentials import CredentialError, FileStore, KeyringStore

    notes: list[str] = []
    for store in (KeyringStore(), FileStore()):
        try:
            credential = store.load(profile)
        except CredentialError as exc:
            notes.append(str(exc))
            continue
        if credential is not None:
            return credential, notes
    return None, notes


@click.command(cls=SecretSafeCommand)
@connection_options
@click.pass_context
def logout(ctx: click.Context) -> None:
    """Revoke the profile's session on the platform and forget its stored credential."""
    from flashback_tui.api.errors import (
        FlashbackConnectionError,
        FlashbackError,
        FlashbackTimeoutError,
    )
    from flashback_tui.credentials import TOKEN_ENV, env_token, forget_credential

    options = options_of(ctx)
    settings = load_settings_or_exit()
    profile = named_profile(settings, options.get("profile"))
    if profile.is_local:
        click.echo(f"Profile {profile.name!r} is the embedded local platform; there is no "
                   "stored credential to forget.", err=True)
        return
    credential, notes = _stored_credential(profile)
    exit_code = ExitCode.OK
    if credential is not None and credential.refresh_token is not None:
        url = credential.url or profile.url
        assert url is not None
        try:
            asyncio.run(revoke(url, credential))
        except (FlashbackConnectionError, FlashbackTimeoutError) as exc:
            notes.append(f"could not reach {url} to revoke the session ({exc}); "
                         "it ends when its tokens expire")
            exit_code = ExitCode.UNREACHABLE
        except FlashbackError as exc:
            notes.append(f"the platform did not revoke the session ({exc}); it may have "
                         "ended already")
    removed, forget_notes = forget_credential(profile)
    echo_notes(list(dict.fromkeys(notes + forget_notes)))
    if removed:
        click.echo(f"Signed out of {profile.url} (profile {profile.name!r}); removed the "
                   f"credential from: {', '.join(removed)}.", err=True)
    else:
        click.echo(f"No stored credential for profile {profile.name!r}; nothing to forget.",
                   err=True)
    if env_token() is not None:
        click.echo(f"note: {TOKEN_ENV} is still set in this environment; unset it too.",
                   err=True)
    if exit_code:
        ctx.exit(int(exit_code))
