"""Shared plumbing of the scriptable commands: exit codes, error mapping, sessions, secrets.

Every scriptable command runs its network work through :func:`run_with_session`, which opens
a session on the platform chosen by the global options (``--url``, ``--profile``,
``--data-dir``, or ``FLASHBACK_URL`` + ``FLASHBACK_TOKEN``), runs one coroutine, and turns
every client error into a message on stderr plus a documented exit code (docs/cli.md).

Secrets (provider keys and secrets) are read only from stdin or from an environment variable
whose *name* is given on the command line; options that would carry a secret value in argv
are refused before parsing. Nothing heavy is imported at module level: the client stack is
imported inside the functions that need it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.api.errors import FlashbackError
    from flashback_tui.connect import Session

T = TypeVar("T")


class ExitCode(IntEnum):
    """The documented exit codes of every scriptable command."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    AUTHENTICATION = 3
    NOT_FOUND = 4
    FORBIDDEN = 5
    VALIDATION_FAILED = 6
    UNREACHABLE = 7


class CliError(click.ClickException):
    """A failure reported as ``Error: ...`` (+ ``Hint: ...``) on stderr with an exit code."""

    def __init__(self, message: str, *, exit_code: int = ExitCode.FAILURE, hint: str = ""):
        super().__init__(message)
        self.exit_code = int(exit_code)
        self.hint = hint

    def show(self, file: Any = None) -> None:
        """Write the error and its hint to stderr (never stdout)."""
        click.echo(f"Error: {self.format_message()}", err=True)
        if self.hint:
            click.echo(f"Hint: {self.hint}", err=True)


# ---------------------------------------------------------------------------------------------
# Error mapping
# ---------------------------------------------------------------------------------------------


def exit_code_for(exc: FlashbackError) -> ExitCode:
    """The exit code of a client error: one per failure kind (see docs/cli.md)."""
    from flashback_tui.api import errors

    by_class: list[tuple[type[errors.FlashbackError], ExitCode]] = [
        (errors.UnauthorizedError, ExitCode.AUTHENTICATION),
        (errors.NotFoundError, ExitCode.NOT_FOUND),
        (errors.ForbiddenError, ExitCode.FORBIDDEN),
        (errors.BadRequestError, ExitCode.USAGE),
        (errors.FlashbackConnectionError, ExitCode.UNREACHABLE),
        (errors.FlashbackTimeoutError, ExitCode.UNREACHABLE),
    ]
    return next((code for cls, code in by_class if isinstance(exc, cls)), ExitCode.FAILURE)


def cli_error_from(exc: FlashbackError) -> CliError:
    """A :class:`CliError` carrying the client error's message, hint and exit code."""
    text = str(exc)
    if exc.request:
        text = f"{text} ({exc.request})"
    return CliError(text, exit_code=exit_code_for(exc), hint=exc.hint)


def _translate(exc: BaseException) -> CliError | None:
    """The CLI error for an exception raised while opening a session or calling the API."""
    from flashback_tui.api.errors import FlashbackError
    from flashback_tui.credentials import NoCredentialError
    from flashback_tui.settings import SettingsError

    if isinstance(exc, FlashbackError):
        return cli_error_from(exc)
    if isinstance(exc, NoCredentialError):
        return CliError(str(exc), exit_code=ExitCode.AUTHENTICATION)
    if isinstance(exc, SettingsError):
        return CliError(str(exc), exit_code=ExitCode.USAGE,
                        hint="Check --profile and the settings file.")
    if isinstance(exc, TimeoutError):
        return CliError(
            f"the platform did not start or answer in time ({exc or 'timeout'})",
            exit_code=ExitCode.UNREACHABLE,
            hint="Check that the backend is running and the URL is right.",
        )
    return None


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------


#: Bounds of ``--timeout``: long enough for a slow link, short enough to notice a dead one.
TIMEOUT_RANGE = click.FloatRange(0.1, 600)


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Accept ``--url``, ``--profile`` and ``--timeout`` on a subcommand too (``llm list --url U``).

    They override the global options of the same name; the values land in ``ctx.obj``.
    """

    def store(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.ensure_object(dict)[param.name] = value

    command = click.option(
        "--timeout", metavar="SECONDS", type=TIMEOUT_RANGE, expose_value=False, callback=store,
        help="Seconds to wait for the platform (same as the global option).",
    )(command)
    command = click.option(
        "--profile", metavar="NAME", expose_value=False, callback=store,
        help="Settings profile to use (same as the global option).",
    )(command)
    return click.option(
        "--url", metavar="URL", expose_value=False, callback=store,
        help="Platform URL (same as the global option; default $FLASHBACK_URL).",
    )(command)


def options_of(ctx: click.Context) -> dict[str, Any]:
    """The global options (``--url``, ``--profile``, ``--data-dir``, ``--read-only``)."""
    obj = ctx.find_object(dict)
    return obj if obj is not None else {}


def require_writable(ctx: click.Context) -> None:
    """Refuse a write command under the global ``--read-only`` flag."""
    if options_of(ctx).get("read_only"):
        raise CliError(
            "this command changes data and the session is read-only",
            exit_code=ExitCode.FORBIDDEN,
            hint="Run it without --read-only.",
        )


def check_url(url: str | None) -> None:
    """A usage error unless ``url`` (``--url`` or ``$FLASHBACK_URL``) is an http(s) URL."""
    if url is None:
        return
    from flashback_tui.api.models import check_endpoint

    try:
        check_endpoint(url)
    except ValueError as exc:
        reason = str(exc).replace("endpoint", "the URL", 1)
        raise click.UsageError(f"--url / FLASHBACK_URL: {reason}") from None


def run_with_session(ctx: click.Context, body: Callable[[Session], Awaitable[T]]) -> T:
    """Open a session as the global options say, run ``body(session)``, map its errors."""
    options = options_of(ctx)
    check_url(options.get("url"))

    async def main() -> T:
        from flashback_tui import connect

        async with connect.open_session(
            profile=options.get("profile"),
            url=options.get("url"),
            data_dir=options.get("data_dir"),
            request_timeout=options.get("timeout"),
        ) as session:
            return await body(session)

    try:
        return asyncio.run(main())
    except click.ClickException:
        raise
    except Exception as exc:
        error = _translate(exc)
        if error is None:
            raise
        raise error from None


# ---------------------------------------------------------------------------------------------
# Secrets: refused in argv, read from stdin or a named environment variable
# ---------------------------------------------------------------------------------------------

_PASSWORD_ADVICE = (
    "Sign in with `flashback-tui login --password-stdin` (a terminal asks for it, hidden)."
)
_TOKEN_ADVICE = (
    "Put the token in the FLASHBACK_TOKEN environment variable, or keep it with "
    "`flashback-tui login --token-stdin`."
)
_SECRET_ADVICE = (
    "Pass it on standard input with --secret-stdin (for example "
    "`printenv OPENAI_API_KEY | flashback-tui llm rotate ID --secret-stdin`) or name an "
    "environment variable that holds it with --secret-env VAR."
)
_KEY_ADVICE = (
    "Pass it on standard input with --key-stdin (with --secret-stdin too: the key on the "
    "first line, the secret on the second) or name an environment variable that holds it "
    "with --key-env VAR."
)

#: Options that would put a secret value in argv, and what to do instead.
ARGV_SECRET_OPTIONS: dict[str, str] = {
    "--secret": _SECRET_ADVICE,
    "--api-key": _SECRET_ADVICE,
    "--apikey": _SECRET_ADVICE,
    "--secret-key": _SECRET_ADVICE,
    "--secret-access-key": _SECRET_ADVICE,
    "--key": _KEY_ADVICE,
    "--access-key": _KEY_ADVICE,
    "--access-key-id": _KEY_ADVICE,
    "--password": _PASSWORD_ADVICE,
    "--token": _TOKEN_ADVICE,
    "--access-token": _TOKEN_ADVICE,
}


def refuse_argv_secrets(ctx: click.Context, args: list[str]) -> None:
    """Raise a usage error if ``args`` carries a secret-valued option (value never echoed)."""
    for arg in args:
        if arg == "--":
            break
        option = arg.split("=", 1)[0]
        advice = ARGV_SECRET_OPTIONS.get(option)
        if advice is not None:
            raise click.UsageError(
                f"{option} is not accepted: a value on the command line is visible to other "
                f"users in the process list and stays in the shell history. {advice}",
                ctx,
            )


class SecretSafeCommand(click.Command):
    """A command that refuses secret-valued options before click parses anything."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_argv_secrets(ctx, args)
        return super().parse_args(ctx, args)


class SecretSafeGroup(click.Group):
    """A group that refuses secret-valued options; its subcommands do the same."""

    command_class = SecretSafeCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_argv_secrets(ctx, args[: self._own_args_end(ctx, args)])
        return super().parse_args(ctx, args)

    def _own_args_end(self, ctx: click.Context, args: list[str]) -> int:
        """Index of the subcommand name in ``args`` (its own args are checked by it)."""
        names = set(self.list_commands(ctx))
        return next((i for i, arg in enumerate(args) if arg in names), len(args))


@dataclass(frozen=True)
class SecretSources:
    """Where the key and the secret come from, as the command line says."""

    key_stdin: bool = False
    key_env: str | None = None
    secret_stdin: bool = False
    secret_env: str | None = None


def secret_options(*, with_key: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--secret-stdin/--secret-env`` (and ``--key-stdin/--key-env``) options."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--secret-env", metavar="VAR",
            help="Read the secret from the environment variable VAR (its name, not its value).",
        )(command)
        command = click.option(
            "--secret-stdin", is_flag=True,
            help="Read the secret from standard input (hidden prompt on a terminal).",
        )(command)
        if with_key:
            command = click.option(
                "--key-env", metavar="VAR",
                help="Read the key (e.g. an AWS access key id) from the environment variable VAR.",
            )(command)
            command = click.option(
                "--key-stdin", is_flag=True,
                help="Read the key from standard input; with --secret-stdin it is the first "
                "line and the secret the second.",
            )(command)
        return command

    return decorate


def read_credentials(
    sources: SecretSources, *, require_secret: bool
) -> tuple[SecretStr | None, SecretStr | None]:
    """``(key, secret)`` read from stdin and/or the environment, as ``SecretStr``.

    stdin format: with one of --key-stdin/--secret-stdin, the whole of stdin is the value
    (surrounding whitespace removed; it must be a single line). With both, the first line is
    the key and the second the secret. On a terminal each value is asked for, hidden.
    Errors name the option, never the value.
    """
    from pydantic import SecretStr

    if sources.secret_stdin and sources.secret_env:
        raise click.UsageError("use either --secret-stdin or --secret-env, not both")
    if sources.key_stdin and sources.key_env:
        raise click.UsageError("use either --key-stdin or --key-env, not both")
    if require_secret and not (sources.secret_stdin or sources.secret_env):
        raise click.UsageError(
            "a secret is required: pass --secret-stdin (and pipe it in) or --secret-env VAR"
        )
    stdin_names = [name for name, wanted in
                   (("key", sources.key_stdin), ("secret", sources.secret_stdin)) if wanted]
    values = dict(zip(stdin_names, _read_stdin_values(stdin_names), strict=True))
    if sources.key_env:
        values["key"] = _read_env(sources.key_env, "--key-env")
    if sources.secret_env:
        values["secret"] = _read_env(sources.secret_env, "--secret-env")
    key, secret = values.get("key"), values.get("secret")
    return (
        SecretStr(key) if key is not None else None,
        SecretStr(secret) if secret is not None else None,
    )


def _read_env(var: str, option: str) -> str:
    value = os.environ.get(var, "").strip()
    if not value:
        raise click.UsageError(f"{option}: the environment variable {var} is not set or empty")
    return value


def _read_stdin_values(names: list[str]) -> list[str]:
    """One value per name from stdin: prompted when it is a terminal, else one per line."""
    if not names:
        return []
    from flashback_tui.api.models import SECRET_MAX_LENGTH

    stream = sys.stdin
    if stream is not None and stream.isatty():
        return [click.prompt(name.capitalize(), hide_input=True, err=True).strip()
                for name in names]
    limit = 2 * SECRET_MAX_LENGTH + 64  # two values at their longest, and some slack
    text = stream.read(limit + 1) if stream is not None else ""
    if len(text) > limit:
        raise click.UsageError(f"standard input is longer than {limit} characters")
    lines = [line.strip() for line in text.strip().splitlines()]
    options = " and ".join(f"--{name}-stdin" for name in names)
    if len(lines) != len(names) or not all(lines):
        expected = ("the key on the first line and the secret on the second"
                    if len(names) == 2 else f"the {names[0]} on a single line")
        raise click.UsageError(
            f"{options}: standard input must hold {expected} "
            f"(got {len([line for line in lines if line])} non-empty line(s))"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Local validation with the wire models (one home for each rule)
# ---------------------------------------------------------------------------------------------

#: Wire field -> the option a user sets it with, for error messages.
OPTION_OF_FIELD: dict[str, str] = {
    "name": "--name",
    "aiType": "--type",
    "ai_type": "--type",
    "endpoint": "--endpoint",
    "key": "--key-stdin/--key-env",
    "secret": "--secret-stdin/--secret-env",
    "workspaceId": "--workspace",
    "workspace_id": "--workspace",
}


def build_model(model: type[T], **fields: Any) -> T:
    """Validate ``fields`` with a wire model; a failure becomes ``--option: reason`` (exit 2).

    Only each error's location and message are used: pydantic's own text would include the
    input value, which may be a secret.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        raise click.UsageError(field_problems(exc)) from None


def field_problems(exc: Any, options: dict[str, str] | None = None) -> str:
    """``--name is too long: at most 255 characters``: a pydantic error in plain words.

    Only each error's location and message are used, never the input (it may be a secret).
    """
    from flashback_tui.api.errors import plain_words

    names = {**OPTION_OF_FIELD, **(options or {})}
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "input"
        problems.append(plain_words(f"{names.get(field, field)}: {error['msg']}"))
    return "; ".join(problems)


# ---------------------------------------------------------------------------------------------
# Confirmations
# ---------------------------------------------------------------------------------------------


def stdin_is_terminal() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def check_confirmable(yes: bool, what: str = "deleting") -> None:
    """Refuse (exit 2) when confirmation is needed and nobody can give it."""
    if not yes and not stdin_is_terminal():
        raise click.UsageError(f"{what} needs confirmation and standard input is not a "
                               "terminal: pass --yes to go ahead without asking")


def confirmed(yes: bool, question: str) -> bool:
    """True with ``--yes``; else the answer to ``question`` (asked on stderr, default no)."""
    return yes or click.confirm(question, default=False, err=True)


def declined(what: str = "changed") -> CliError:
    """The error of a question answered "no" (exit 1): ``not confirmed; nothing deleted``."""
    return CliError(f"not confirmed; nothing {what}", exit_code=ExitCode.FAILURE)
