"""``flashback-tui admin``: manage a local platform's data dir directly (also while it runs)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("READ", "WRITE", "ADMIN")


def _data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir", type=click.Path(file_okay=False), default=None,
        help="Data directory [default: $FLASHBACK_DATA_DIR, else the user data dir].",
    )(func)


def _resolve(data_dir: str | None) -> Path:
    from flashback_tui.paths import data_dir as resolve_data_dir

    ctx = click.get_current_context()
    root = ctx.find_root().obj or {}
    return resolve_data_dir(data_dir or root.get("data_dir"))


def _exit_code(exc: Exception) -> int:
    """The documented exit code of a store error: 2 bad value, 4 not found, 5 refused."""
    from flashback_tui.commands.common import ExitCode
    from flashback_tui.server.store import base as store_base

    by_class = ((store_base.NotFound, ExitCode.NOT_FOUND), (store_base.Invalid, ExitCode.USAGE),
                (store_base.InUse, ExitCode.FORBIDDEN))
    return int(next((code for cls, code in by_class if isinstance(exc, cls)), ExitCode.FAILURE))


def _friendly_errors(func: F) -> F:
    """Turn store and key errors into a message on stderr and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flashback_tui.commands.common import CliError
        from flashback_tui.server.crypto import CryptoError
        from flashback_tui.server.store.base import StoreError

        try:
            return func(*args, **kwargs)
        except (StoreError, CryptoError) as exc:
            raise CliError(str(exc), exit_code=_exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]


class OrgRoleType(click.ParamType):
    """``--org-role``: a role name (any case) or its number."""

    name = "ROLE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        from flashback_tui.server.admin import parse_org_role
        from flashback_tui.server.store.base import Invalid

        try:
            return parse_org_role(value)
        except Invalid as exc:
            self.fail(str(exc).removeprefix("org role: "), param, ctx)


@click.group()
def admin() -> None:
    """Administer the local platform's data dir: users, workspaces, tokens, keys."""


@admin.group()
def user() -> None:
    """Users."""


@user.command("add")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read a password for /user/login from stdin (first line); at a terminal,"
                   " ask for it without echo.")
@click.option("--name", default=None, help="Display name.")
@click.option("--org-role", type=OrgRoleType(), default="USER", show_default=True,
              help="USER, BILLING, WORKSPACES, ADMINISTRATORS or OWNER (or 0, 1, 2, 254,"
                   " 255). OWNER and ADMINISTRATORS manage every workspace.")
@_data_dir_option
@_friendly_errors
def user_add(email: str, password_stdin: bool, name: str | None, org_role: int,
             data_dir: str | None) -> None:
    """Add a user and print its id; with --password-stdin the user can sign in."""
    from pydantic import SecretStr

    from flashback_tui.server import admin as ops

    password = None
    if password_stdin:
        if sys.stdin.isatty():  # a person at a terminal: ask without echo
            line = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                err=True)
        else:
            line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("no password on stdin")
        password = SecretStr(line)
    user_id = ops.add_user(_resolve(data_dir), email, password=password, name=name,
                           org_role=org_role)
    click.echo(user_id)


@admin.group()
def workspace() -> None:
    """Workspaces."""


@workspace.command("add")
@click.argument("name")
@_data_dir_option
@_friendly_errors
def workspace_add(name: str, data_dir: str | None) -> None:
    """Add a workspace; prints its id."""
    from flashback_tui.server import admin as ops

    click.echo(ops.add_workspace(_resolve(data_dir), name))


@admin.group()
def member() -> None:
    """Workspace memberships."""


@member.command("add")
@click.argument("workspace")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES, case_sensitive=False), required=True,
              help="READ may list and validate; WRITE and ADMIN may also change.")
@_data_dir_option
@_friendly_errors
def member_add(workspace: str, email: str, role: str, data_dir: str | None) -> None:
    """Give EMAIL a role in WORKSPACE (name or id)."""
    from flashback_tui.server import admin as ops

    ops.add_member(_resolve(data_dir), workspace, email, role.upper())
    click.echo(f"{email} is now {role.upper()} in {workspace}", err=True)


@member.command("remove")
@click.argument("workspace")
@click.argument("email")
@_data_dir_option
@_friendly_errors
def member_remove(workspace: str, email: str, data_dir: str | None) -> None:
    """Take EMAIL out of WORKSPACE (name or id); refused for its last ADMIN."""
    from flashback_tui.server import admin as ops

    ops.remove_member(_resolve(data_dir), workspace, email)
    click.echo(f"{email} is no longer a member of {workspace}", err=True)


@admin.group()
def token() -> None:
    """Bearer access tokens."""


@token.command("create")
@click.argument("email")
@_data_dir_option
@_friendly_errors
def token_create(email: str, data_dir: str | None) -> None:
    """Print one new access token for EMAIL (valid 30 days) and nothing else."""
    from flashback_tui.server import admin as ops

    click.echo(ops.create_token(_resolve(data_dir), email))


@admin.group()
def repo() -> None:
    """Repositories that use configurations."""


@repo.command("add")
@click.argument("name")
@click.option("--workspace", required=True, help="Workspace name or id.")
@click.option("--llm", "llm_id", required=True, help="Id of the configuration to link.")
@_data_dir_option
@_friendly_errors
def repo_add(name: str, workspace: str, llm_id: str, data_dir: str | None) -> None:
    """Create repository NAME (or reuse it) and link a configuration to it."""
    from flashback_tui.server import admin as ops

    click.echo(ops.add_repo(_resolve(data_dir), name, workspace, llm_id))


@admin.command("rotate-key")
@_data_dir_option
@_friendly_errors
def rotate_key(data_dir: str | None) -> None:
    """Make a new master key current and re-seal every secret under it."""
    from flashback_tui.server import admin as ops

    count = ops.rotate_key(_resolve(data_dir))
    click.echo(f"re-sealed {count} secret value(s) under a new key", err=True)
