"""``login``, ``logout`` and ``auth status``: signing in to a platform and keeping the token.

Passwords and tokens never come from argv: they are read from stdin (``--password-stdin``,
``--token-stdin``) or asked for without echo on a terminal. Tokens go to the OS keyring when
a usable one exists, else, only with ``--insecure-storage`` (remembered per profile), to a
0600 plaintext file; otherwise ``login`` explains the choices and stores nothing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSafeCommand,
    SecretSafeGroup,
    check_url,
    cli_error_from,
    connection_options,
    options_of,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.credentials import StoredCredential
    from flashback_tui.settings import Profile, Settings

#: At most this many characters are read from stdin for a password or token.
STDIN_LIMIT = 16384


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _settings() -> Settings:
    from flashback_tui.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE,
                       hint="Fix or move the settings file, then try again.") from None


def _named_profile(settings: Settings, name: str | None) -> Profile:
    from flashback_tui.settings import UnknownProfileError

    try:
        return settings.get_profile(name)
    except UnknownProfileError as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE) from None


def _default_name(settings: Settings) -> str | None:
    """The profile used without --profile, or None when that name is unknown."""
    from flashback_tui.settings import UnknownProfileError

    try:
        return settings.get_profile(None).name
    except UnknownProfileError:
        return None


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _read_stdin_secret(option: str) -> SecretStr:
    """One secret from stdin (hidden prompt on a terminal); trailing newlines removed."""
    from pydantic import SecretStr

    if _stdin_is_terminal():
        value = click.prompt(option.removesuffix("-stdin").lstrip("-").capitalize(),
                             hide_input=True, err=True)
    else:
        text = sys.stdin.read(STDIN_LIMIT + 1) if sys.stdin is not None else ""
        if len(text) > STDIN_LIMIT:
            raise click.UsageError(f"{option}: standard input is longer than {STDIN_LIMIT} "
                                   "characters")
        value = text.rstrip("\r\n")
    if not value.strip():
        raise click.UsageError(f"{option}: nothing was read from standard input")
    return SecretStr(value.strip() if option == "--token-stdin" else value)


def _run(coroutine: Any) -> Any:
    """Run one client coroutine; client errors become CLI errors with their exit codes."""
    from pydantic import ValidationError

    from flashback_tui.api.errors import FlashbackError

    try:
        return asyncio.run(coroutine)
    except FlashbackError as exc:
        raise cli_error_from(exc) from None
    except ValidationError as exc:  # the request itself is invalid (e.g. the e-mail)
        options = {"email": "--email", "password": "the password"}
        problems = "; ".join(
            f"{options.get(str(error['loc'][0]), error['loc'][0]) if error['loc'] else 'input'}"
            f": {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise click.UsageError(problems) from None


def format_expiry(expires_at: int | None, *, has_refresh: bool, now: float | None = None) -> str:
    """``2026-01-01 10:00 UTC (in 59 min)`` or ``expired 3 min ago ...``."""
    if expires_at is None:
        return "unknown"
    now = time.time() if now is None else now
    moment = datetime.fromtimestamp(expires_at / 1000, tz=UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M UTC")
    seconds = expires_at / 1000 - now
    span = _span(abs(seconds))
    if seconds > 0:
        return f"{stamp} (in {span})"
    after = ("refreshed automatically on next use" if has_refresh
             else "sign in again with flashback-tui login")
    return f"{stamp} (expired {span} ago; {after})"


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def _echo_notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


# ---------------------------------------------------------------------------------------------
# login
# ---------------------------------------------------------------------------------------------

#: Options someone may try for a password or token on the command line.
_ARGV_SIGN_IN_SECRETS = ("--password", "--token", "--access-token", "--refresh-token")


class SignInCommand(SecretSafeCommand):
    """``login``: refuses a password or token in argv with advice on how to give it instead."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            if arg == "--":
                break
            option = arg.split("=", 1)[0]
            if option in _ARGV_SIGN_IN_SECRETS:
                raise click.UsageError(
                    f"{option} is not accepted: a value on the command line is visible to other "
                    "users in the process list and stays in the shell history. Type it at the "
                    "hidden prompt, or pipe it in: `printenv FLASHBACK_PASSWORD | flashback-tui "
                    "login --email EMAIL --password-stdin` (--token-stdin for a token).",
                    ctx,
                )
        return super().parse_args(ctx, args)



def _login_profile(settings: Settings, name: str | None, url: str | None) -> Profile:
    """The profile to sign in with: named, matched by URL, or new; never ``local``."""
    from flashback_tui.connect import adhoc_profile
    from flashback_tui.settings import LOCAL_PROFILE, Profile

    if name:
        existing = settings.profiles.get(name)
        if existing is None:
            if not url:
                raise click.UsageError(
                    f"profile {name!r} does not exist yet; give the platform's URL: "
                    f"flashback-tui login --profile {name} --url URL"
                )
            if name == LOCAL_PROFILE:
                raise click.UsageError("'local' is the embedded platform's profile")
            return _new_profile(name, url)
        profile = existing
    elif url:
        profile = settings.find_profile_by_url(url) or adhoc_profile(url)
    else:
        profile = _named_profile(settings, None)
    if profile.is_local:
        if url:
            raise click.UsageError(
                f"profile {profile.name!r} is the embedded local platform and has no URL; "
                "sign in to a remote platform under another name: "
                "flashback-tui login --profile NAME --url URL"
            )
        raise click.UsageError(
            f"profile {profile.name!r} is the embedded local platform: it signs in as the local "
            "admin by itself. To sign in to a remote platform: "
            "flashback-tui login --profile NAME --url URL"
        )
    if url and url.rstrip("/") != profile.url:
        profile = profile.model_copy(update={"url": Profile(name=profile.name, url=url).url})
    return profile


def _new_profile(name: str, url: str) -> Profile:
    from pydantic import ValidationError

    from flashback_tui.settings import Profile

    try:
        return Profile(name=name, url=url)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors(include_input=False, include_url=False))
        raise click.UsageError(f"--profile/--url: {problems}") from None


def _storage_choices(profile: Profile, notes: list[str]) -> str:
    """What to do when there is no safe place for the token."""
    from flashback_tui.credentials import TOKEN_ENV, FileStore

    reasons = "; ".join(notes) or "no usable OS keyring"
    path = FileStore().path(profile)
    return (
        f"Cannot keep the token safely on this machine: {reasons}.\n"
        "Nothing was stored. Choose one:\n"
        "  1. Keep it in a plaintext file that only your account can read (mode 0600):\n"
        f"       flashback-tui login --profile {profile.name} --url {profile.url} "
        "--insecure-storage\n"
        f"     It would be written to {path}; anyone with access to this account can read it.\n"
        "  2. Use a token for one command or script without storing it:\n"
        f"       FLASHBACK_URL={profile.url} {TOKEN_ENV}=... flashback-tui ...\n"
        "  3. Make an OS keyring available (a Secret Service such as GNOME Keyring or KWallet,\n"
        "     or another backend chosen with PYTHON_KEYRING_BACKEND), then sign in again."
    )


def _check_storage(profile: Profile, insecure: bool) -> None:
    """Before asking for anything: is there somewhere the token may go?"""
    from flashback_tui.credentials import CredentialError, KeyringStore

    if insecure:
        return
    try:
        KeyringStore().backend()
    except CredentialError as exc:
        raise CliError(_storage_choices(profile, [str(exc)]), exit_code=ExitCode.FAILURE) from None


async def _check_token(url: str, token: SecretStr, email: str | None) -> StoredCredential:
    """A given token, proven to work with one authenticated call."""
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.credentials import StoredCredential

    async with FlashbackClient(url, token=token) as client:
        await client.get_workspaces()
    return StoredCredential(token, None, None, email, url)


async def _revoke(url: str, credential: StoredCredential) -> None:
    from flashback_tui.api.client import FlashbackClient

    async with FlashbackClient(url, token=credential.access_token,
                               refresh_token=credential.refresh_token) as client:
        await client.logout()


def _ask_email(profile: Profile, email: str | None, reading_stdin: bool) -> str:
    email = email or profile.email
    if email:
        return email
    if reading_stdin or not _stdin_is_terminal():
        raise click.UsageError("give the account's e-mail with --email EMAIL")
    return click.prompt("E-mail", err=True).strip()


def _ask_password(password_stdin: bool) -> SecretStr:
    if password_stdin or _stdin_is_terminal():
        return _read_stdin_secret("--password-stdin")
    raise click.UsageError(
        "no terminal to ask for the password: pipe it in with --password-stdin "
        "(for example `printenv FLASHBACK_PASSWORD | flashback-tui login ... --password-stdin`)"
    )


@click.command(cls=SignInCommand)
@connection_options
@click.option("--email", metavar="EMAIL", help="Account e-mail (default: the profile's last one).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (a terminal asks, hidden).")
@click.option("--token-stdin", is_flag=True,
              help="Keep a given access token, read from standard input, instead of signing in.")
@click.option("--insecure-storage", is_flag=True,
              help="Allow a plaintext 0600 file when no OS keyring is usable (remembered for "
              "the profile).")
@click.pass_context
def login(ctx: click.Context, email: str | None, password_stdin: bool, token_stdin: bool,
          insecure_storage: bool) -> None:
    """Sign in to a platform and keep the token (OS keyring, or an opt-in 0600 file)."""
    from flashback_tui.credentials import (
        TOKEN_ENV,
        CredentialError,
        NoSafeStorageError,
        env_token,
        save_credential,
    )
    from flashback_tui.settings import SettingsError, save_profile

    if password_stdin and token_stdin:
        raise click.UsageError("use either --password-stdin or --token-stdin, not both")
    options = options_of(ctx)
    check_url(options.get("url"))
    settings = _settings()
    profile = _login_profile(settings, options.get("profile"), options.get("url"))
    assert profile.url is not None
    insecure = insecure_storage or profile.insecure_storage
    _check_storage(profile, insecure)

    if token_stdin:
        token = _read_stdin_secret("--token-stdin")
        credential = _run(_check_token(profile.url, token, email))  # the token names no one
    else:
        address = _ask_email(profile, email, password_stdin)
        from flashback_tui.connect import sign_in

        credential = _run(sign_in(profile.url, address, _ask_password(password_stdin)))

    try:
        where, notes = save_credential(profile, credential, insecure_storage=insecure)
    except NoSafeStorageError as exc:
        if credential.refresh_token is not None:
            _try_revoke(profile.url, credential)
        raise CliError(_storage_choices(profile, exc.notes), exit_code=ExitCode.FAILURE) from None
    except CredentialError as exc:  # e.g. a credentials directory others can read
        if credential.refresh_token is not None:
            _try_revoke(profile.url, credential)
        raise CliError(f"{exc}. Nothing was stored.", exit_code=ExitCode.FAILURE) from None
    _echo_notes(notes)
    saved = profile.model_copy(update={
        "email": credential.email or profile.email,
        "insecure_storage": insecure,
    })
    try:
        settings_file = save_profile(saved)
    except SettingsError as exc:
        raise CliError(f"signed in and stored the credential, but could not save the profile: "
                       f"{exc}", exit_code=ExitCode.FAILURE) from None
    who = f" as {credential.email}" if credential.email else ""
    click.echo(f"Signed in to {profile.url}{who} (profile {profile.name!r}).")
    click.echo(f"Credential stored in: {where}")
    if where.startswith("file "):
        click.echo("Warning: the token is stored in PLAINTEXT; anyone with access to this "
                   "account can read it. `flashback-tui logout` removes it.", err=True)
    if profile.name not in settings.profiles:
        click.echo(f"Saved profile {profile.name!r} in {settings_file}.")
    if profile.name != _default_name(settings):
        click.echo(f"Use it with: flashback-tui --profile {profile.name} "
                   f"(or FLASHBACK_PROFILE={profile.name}).")
    if env_token() is not None:
        click.echo(f"note: {TOKEN_ENV} is set in this environment and takes precedence over "
                   "the stored credential.", err=True)


def _try_revoke(url: str, credential: StoredCredential) -> None:
    """Best effort: end a session whose tokens could not be kept."""
    from flashback_tui.api.errors import FlashbackError

    try:
        asyncio.run(_revoke(url, credential))
    except FlashbackError:
        pass


# ---------------------------------------------------------------------------------------------
# logout
# ---------------------------------------------------------------------------------------------


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
    settings = _settings()
    profile = _named_profile(settings, options.get("profile"))
    if profile.is_local:
        click.echo(f"Profile {profile.name!r} is the embedded local platform; there is no "
                   "stored credential to forget.")
        return
    credential, notes = _stored_credential(profile)
    exit_code = ExitCode.OK
    if credential is not None and credential.refresh_token is not None:
        url = credential.url or profile.url
        assert url is not None
        try:
            asyncio.run(_revoke(url, credential))
        except (FlashbackConnectionError, FlashbackTimeoutError) as exc:
            notes.append(f"could not reach {url} to revoke the session ({exc}); "
                         "it ends when its tokens expire")
            exit_code = ExitCode.UNREACHABLE
        except FlashbackError as exc:
            notes.append(f"the platform did not revoke the session ({exc}); it may have "
                         "ended already")
    removed, forget_notes = forget_credential(profile)
    _echo_notes(list(dict.fromkeys(notes + forget_notes)))
    if removed:
        click.echo(f"Signed out of {profile.url} (profile {profile.name!r}); removed the "
                   f"credential from: {', '.join(removed)}.")
    else:
        click.echo(f"No stored credential for profile {profile.name!r}; nothing to forget.")
    if env_token() is not None:
        click.echo(f"note: {TOKEN_ENV} is still set in this environment; unset it too.",
                   err=True)
    if exit_code:
        ctx.exit(int(exit_code))


# ---------------------------------------------------------------------------------------------
# auth status
# ---------------------------------------------------------------------------------------------


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
    settings = _settings()
    default_name = _default_name(settings)
    name = options.get("profile")
    if options.get("url") and not name:
        from flashback_tui.connect import resolve_profile

        profiles = [resolve_profile(None, options["url"])]
    elif name:
        profiles = [_named_profile(settings, name)]
    else:
        profiles = list(settings.profiles.values())
    statuses = [profile_status(profile, default_name) for profile in profiles]
    if as_json:
        click.echo(json.dumps([item.to_json() for item in statuses], indent=2))
    else:
        click.echo("\n\n".join("\n".join(item.lines()) for item in statuses))
    if len(statuses) == 1 and not statuses[0].signed_in:
        ctx.exit(int(ExitCode.AUTHENTICATION))
