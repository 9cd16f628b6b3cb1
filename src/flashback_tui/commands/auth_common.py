"""What ``login``, ``logout`` and ``auth status`` share: settings, stdin secrets, expiry text.

Passwords and tokens never come from argv: they are read from stdin or asked for without
echo on a terminal. Client errors become CLI errors with their documented exit codes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    cli_error_from,
    field_problems,
    stdin_is_terminal,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.credentials import StoredCredential
    from flashback_tui.settings import Profile, Settings

STDIN_LIMIT = 16384


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def load_settings_or_exit() -> Settings:
    from flashback_tui.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE,
                       hint="Fix or move the settings file, then try again.") from None


def named_profile(settings: Settings, name: str | None) -> Profile:
    from flashback_tui.settings import UnknownProfileError

    try:
        return settings.get_profile(name)
    except UnknownProfileError as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE) from None


def default_profile_name(settings: Settings) -> str | None:
    """The profile used without --profile, or None when that name is unknown."""
    from flashback_tui.settings import UnknownProfileError

    try:
        return settings.get_profile(None).name
    except UnknownProfileError:
        return None


def read_stdin_secret(option: str) -> SecretStr:
    """One secret from stdin (hidden prompt on a terminal); trailing newlines removed."""
    from pydantic import SecretStr

    if stdin_is_terminal():
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


#: The hint of a refused sign-in (running ``login`` again is not advice to a failed login).
SIGN_IN_HINT = ("Check the e-mail address and password (or the token) and that the URL is "
                "the platform you have an account on.")


def run_client(coroutine: Any, *, signing_in: bool = False) -> Any:
    """Run one client coroutine; client errors become CLI errors with their exit codes.

    ``signing_in``: an authentication failure gets :data:`SIGN_IN_HINT`.
    """
    from pydantic import ValidationError

    from flashback_tui.api.errors import FlashbackError

    try:
        return asyncio.run(coroutine)
    except FlashbackError as exc:
        error = cli_error_from(exc)
        if signing_in and error.exit_code == ExitCode.AUTHENTICATION:
            error.hint = SIGN_IN_HINT
        raise error from None
    except ValidationError as exc:  # the request itself is invalid (e.g. the e-mail)
        raise click.UsageError(field_problems(exc, {"email": "--email",
                                                    "password": "the password"})) from None


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


def echo_notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)

async def revoke(url: str, credential: StoredCredential) -> None:
    from flashback_tui.api.client import FlashbackClient

    async with FlashbackClient(url, token=credential.access_token,
                               refresh_token=credential.refresh_token) as client:
        await client.logout()


def try_revoke(url: str, credential: StoredCredential) -> None:
    """Best effort: end a session whose tokens could not be kept."""
    from flashback_tui.api.errors import FlashbackError

    try:
        asyncio.run(revoke(url, credential))
    except FlashbackError:
        pass
