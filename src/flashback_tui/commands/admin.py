"""``flashback-tui admin``: manage a local platform's data dir directly (also while it runs)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from flashback_tui.commands import admin_data, admin_database
from flashback_tui.commands.admin_common import data_dir_option, friendly_errors, resolve_data_dir

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("READ", "WRITE", "ADMIN")


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
    """Administer the local platform: users, workspaces, tokens, keys, its database."""


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
@data_dir_option
@friendly_errors
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
    user_id = ops.add_user(resolve_data_dir(data_dir), email, password=password, name=name,
                           org_role=org_role)
    click.echo(user_id)


@admin.group()
def workspace() -> None:
    """Workspaces."""


@workspace.command("add")
@click.argument("name")
@data_dir_option
@friendly_errors
def workspace_add(name: str, data_dir: str | None) -> None:
    """Add a workspace; prints its id."""
    from flashback_tui.server import admin as ops

    click.echo(ops.add_workspace(resolve_data_dir(data_dir), name))


@admin.group()
def member() -> None:
    """Workspace memberships."""


@member.command("add")
@click.argument("workspace")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES, case_sensitive=False), required=True,
              help="READ may list and validate; WRITE and ADMIN may also change.")
@data_dir_option
@friendly_errors
def member_add(workspace: str, email: str, role: str, data_dir: str | None) -> None:
    """Give EMAIL a role in WORKSPACE (name or id)."""
    from flashback_tui.server import admin as ops

    ops.add_member(resolve_data_dir(data_dir), workspace, email, role.upper())
    click.echo(f"{email} is now {role.upper()} in {workspace}", err=True)


@member.command("remove")
@click.argument("workspace")
@click.argument("email")
@data_dir_option
@friendly_errors
def member_remove(workspace: str, email: str, data_dir: str | None) -> None:
    """Take EMAIL out of WORKSPACE (name or id); refused for its last ADMIN."""
    from flashback_tui.server import admin as ops

    ops.remove_member(resolve_data_dir(data_dir), workspace, email)
    click.echo(f"{email} is no longer a member of {workspace}", err=True)


@admin.group()
def token() -> None:
    """Bearer access tokens."""


@token.command("create")
@click.argument("email")
@data_dir_option
@friendly_errors
def token_create(email: str, data_dir: str | None) -> None:
    """Print one new access token for EMAIL (valid 30 days) and nothing else."""
    from flashback_tui.server import admin as ops

    click.echo(ops.create_token(resolve_data_dir(data_dir), email))


@admin.group()
def repo() -> None:
    """Repositories that use configurations."""


@repo.command("add")
@click.argument("name")
@click.option("--workspace", required=True, help="Workspace name or id.")
@click.option("--llm", "llm_id", required=True, help="Id of the configuration to link.")
@data_dir_option
@friendly_errors
def repo_add(name: str, workspace: str, llm_id: str, data_dir: str | None) -> None:
    """Create repository NAME (or reuse it) and link a configuration to it."""
    from flashback_tui.server import admin as ops

    click.echo(ops.add_repo(resolve_data_dir(data_dir), name, workspace, llm_id))


for _command in (*admin_data.COMMANDS, admin_database.migrate, admin_database.copy):
    admin.add_command(_command)
