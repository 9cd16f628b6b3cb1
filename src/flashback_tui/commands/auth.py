"""``login``: signing in to a platform and keeping the token.

Passwords and tokens never come from argv: they are read from stdin (``--password-stdin``,
``--token-stdin``) or asked for without echo on a terminal. Tokens go to the OS keyring when
a usable one exists, else, only with ``--insecure-storage`` (remembered per profile), to a
0600 plaintext file; otherwise ``login`` explains the choices and stores nothing. What it
reports goes to stderr: a sign-in prints no data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flashback_tui.commands.auth_common import (
    default_profile_name,
    echo_notes,
    load_settings_or_exit,
    named_profile,
    read_stdin_secret,
    run_client,
    try_revoke,
)
from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSafeCommand,
    check_url,
    connection_options,
    options_of,
    stdin_is_terminal,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.credentials import StoredCredential
    from flashback_tui.settings import Profile, Settings


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
        profile = named_profile(settings, None)
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




def _ask_email(profile: Profile, email: str | None, reading_stdin: bool) -> str:
    email = email or profile.email
    if email:
        return email
    if reading_stdin or not stdin_is_terminal():
        raise click.UsageError("give the account's e-mail with --email EMAIL")
    return click.prompt("E-mail", err=True).strip()


def _ask_password(password_stdin: bool) -> SecretStr:
    if password_stdin or stdin_is_terminal():
        return read_stdin_secret("--password-stdin")
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
    settings = load_settings_or_exit()
    profile = _login_profile(settings, options.get("profile"), options.get("url"))
    assert profile.url is not None
    insecure = insecure_storage or profile.insecure_storage
    _check_storage(profile, insecure)

    if token_stdin:
        token = read_stdin_secret("--token-stdin")
        # the token names no one
        credential = run_client(_check_token(profile.url, token, email), signing_in=True)
    else:
        address = _ask_email(profile, email, password_stdin)
        from flashback_tui.connect import sign_in

        credential = run_client(sign_in(profile.url, address, _ask_password(password_stdin)),
                                signing_in=True)

    try:
        where, notes = save_credential(profile, credential, insecure_storage=insecure)
    except NoSafeStorageError as exc:
        if credential.refresh_token is not None:
            try_revoke(profile.url, credential)
        raise CliError(_storage_choices(profile, exc.notes), exit_code=ExitCode.FAILURE) from None
    except CredentialError as exc:  # e.g. a credentials directory others can read
        if credential.refresh_token is not None:
            try_revoke(profile.url, credential)
        raise CliError(f"{exc}. Nothing was stored.", exit_code=ExitCode.FAILURE) from None
    echo_notes(notes)
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
    click.echo(f"Signed in to {profile.url}{who} (profile {profile.name!r}).", err=True)
    click.echo(f"Credential stored in: {where}", err=True)
    if where.startswith("file "):
        click.echo("Warning: the token is stored in PLAINTEXT; anyone with access to this "
                   "account can read it. `flashback-tui logout` removes it.", err=True)
    if profile.name not in settings.profiles:
        click.echo(f"Saved profile {profile.name!r} in {settings_file}.", err=True)
    if profile.name != default_profile_name(settings):
        click.echo(f"Use it with: flashback-tui --profile {profile.name} "
                   f"(or FLASHBACK_PROFILE={profile.name}).", err=True)
    if env_token() is not None:
        click.echo(f"note: {TOKEN_ENV} is set in this environment and takes precedence over "
                   "the stored credential.", err=True)
