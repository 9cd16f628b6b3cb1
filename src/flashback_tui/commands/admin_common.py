"""What every ``flashback-tui admin`` command shares: ``--data-dir``, and the one place that
turns store, key, maintenance and database errors into a message and a documented exit
code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """The ``--data-dir`` option."""
    return click.option(
        "--data-dir", type=click.Path(file_okay=False), default=None,
        help="Data directory [default: $FLASHBACK_DATA_DIR, else the user data dir].",
    )(func)


def resolve_data_dir(data_dir: str | None) -> Path:
    """The data dir the command works on (the option, the root's, or the default)."""
    from flashback_tui.paths import data_dir as default_data_dir

    ctx = click.get_current_context()
    root = ctx.find_root().obj or {}
    return default_data_dir(data_dir or root.get("data_dir"))


def _exit_code(exc: Exception) -> int:
    """The documented exit code of a store error: 2 bad value, 4 not found, 5 refused."""
    from flashback_tui.commands.common import ExitCode
    from flashback_tui.server.store import base as store_base

    by_class = ((store_base.NotFound, ExitCode.NOT_FOUND), (store_base.Invalid, ExitCode.USAGE),
                (store_base.InUse, ExitCode.FORBIDDEN))
    return int(next((code for cls, code in by_class if isinstance(exc, cls)), ExitCode.FAILURE))


def friendly_errors(func: F) -> F:
    """Turn store, key, maintenance and database errors into a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flashback_tui.commands.common import CliError
        from flashback_tui.commands.database import chosen_url, database_errors
        from flashback_tui.server.crypto import CryptoError
        from flashback_tui.server.maintenance import MaintenanceError
        from flashback_tui.server.store.base import StoreError

        try:
            with database_errors(chosen_url(kwargs.get("database_url"))):
                return func(*args, **kwargs)
        except (StoreError, CryptoError, MaintenanceError) as exc:
            raise CliError(str(exc), exit_code=_exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]
