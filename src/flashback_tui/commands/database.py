"""What the commands that open a platform's database share: ``--database-url`` and the one
place that turns a bad URL or a database that does not answer into a plain sentence.

The URL may carry a password: it is shown only as :func:`flashback_tui.server.db.redacted`
renders it, and the driver's own messages never reach the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def database_url_option(func: F) -> F:
    """The ``--database-url`` option (else ``FLASHBACK_DATABASE_URL``; the option wins)."""
    return click.option(
        "--database-url", metavar="URL", default=None, callback=_warned_of,
        help="PostgreSQL database to use (postgresql://user@host:5432/dbname) instead of the"
             " data dir's SQLite file [default: $FLASHBACK_DATABASE_URL]. Prefer the variable,"
             " or a password in ~/.pgpass: other users of this machine can read a command's"
             " arguments.",
    )(func)


def _warned_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        warn_of_argv_password(value, "--database-url")
    return value


def chosen_url(flag: str | None) -> str | None:
    """The database URL a command works on: the option, else the variable, else None."""
    from flashback_tui.server.db import DATABASE_URL_ENV

    text = (flag or os.environ.get(DATABASE_URL_ENV, "")).strip()
    return text or None


def warn_of_argv_password(url_text: str, option: str) -> None:
    """Warn on stderr when a URL given as an argument holds a password (``ps`` shows it)."""
    from flashback_tui.server.db import DatabaseUrlError, parse_database_url

    try:
        password = parse_database_url(url_text).password
    except DatabaseUrlError:
        return  # the command says what is wrong with it
    if password:
        click.echo(f"Warning: the password in {option} can be read by other users of this "
                   "machine (in the process list); put it in ~/.pgpass or PGPASSWORD, or the "
                   "whole URL in FLASHBACK_DATABASE_URL.", err=True)


@contextmanager
def database_errors(url_text: str | None) -> Iterator[None]:
    """Turn a bad URL (exit 2), a database that does not answer, a schema this program does
    not know or an unusable master key (exit 1) into ``Error: <one sentence>``."""
    from flashback_tui.commands.common import CliError, ExitCode
    from flashback_tui.server.crypto import CryptoError
    from flashback_tui.server.db import DatabaseUrlError, database_failure
    from flashback_tui.server.migrations import SchemaTooNew
    from flashback_tui.server.sql import DBAPIError

    try:
        yield
    except DatabaseUrlError as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE) from None
    except (SchemaTooNew, CryptoError) as exc:
        raise CliError(str(exc)) from None
    except DBAPIError as exc:
        url = _parsed(url_text)
        message = (database_failure(exc, url) if url is not None
                   else f"cannot use the data dir's database: {database_failure(exc)}")
        raise CliError(message) from None


def _parsed(url_text: str | None) -> Any:
    """The URL to name in a message (the data dir's SQLite file when there is none)."""
    from flashback_tui.server.db import DatabaseUrlError, parse_database_url

    if not url_text:
        return None
    try:
        return parse_database_url(url_text)
    except DatabaseUrlError:
        return None
