"""``flashback-tui member ...``: who belongs to a workspace, and with which role.

The platform adds a member by user id and has no look-up by e-mail. So USER is an e-mail
address of someone already in a workspace you can see (their id is taken from there), or a
user id. Members are listed from ``GET /workspace/{id}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSafeGroup,
    build_model,
    check_confirmable,
    confirmed,
    connection_options,
    declined,
    require_writable,
    run_with_session,
)
from flashback_tui.commands.lookup import resolve_workspace
from flashback_tui.commands.params import REF, ROLE

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Workspace, WorkspaceUser
    from flashback_tui.connect import Session

#: How USER is read, for help texts and errors.
USER_HELP = ("USER is an e-mail address of someone in a workspace you can see, or a user id "
             "(the platform has no look-up by e-mail for anyone else).")


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def member() -> None:
    """Manage the members of a workspace (its ADMINs and the org's administrators).

    WORKSPACE is a workspace's name or id. USER is an e-mail address of someone in a
    workspace you can see, or a user id (the platform has no look-up by e-mail for anyone
    else). ROLE is READ, WRITE or ADMIN.
    """


async def _workspace(client: FlashbackClient, wanted: str) -> Workspace:
    """The workspace with its members (``GET /workspace/{id}``)."""
    chosen = await resolve_workspace(client, wanted)
    return (await client.get_workspace(chosen.id)).workspace


def _member_of(workspace: Workspace, wanted: str) -> WorkspaceUser:
    folded = wanted.strip().casefold()
    for membership in workspace.users:
        email = membership.user.email if membership.user else ""
        if membership.user_id == wanted.strip() or email.casefold() == folded:
            return membership
    raise CliError(f"{wanted!r} is not a member of workspace {workspace.name}",
                   exit_code=ExitCode.NOT_FOUND,
                   hint=f"List them with `flashback-tui member list {workspace.id}`.")


async def user_id_for(client: FlashbackClient, wanted: str) -> str:
    """A user id for USER: an e-mail found in a visible workspace, or the id itself."""
    import uuid

    text = wanted.strip()
    for workspace in (await client.get_workspaces()).workspaces:
        for membership in workspace.users:
            email = membership.user.email if membership.user else ""
            if membership.user_id == text or email.casefold() == text.casefold():
                return membership.user_id
    try:
        uuid.UUID(text)
    except ValueError:
        raise CliError(f"no user with e-mail {text!r} in the workspaces you can see",
                       exit_code=ExitCode.NOT_FOUND,
                       hint="Give their user id instead (the platform has no look-up by "
                            "e-mail for people outside your workspaces).") from None
    return text


def _label(membership: WorkspaceUser) -> str:
    return membership.user.email if membership.user else membership.user_id


@member.command("list")
@click.argument("workspace", metavar="WORKSPACE", type=REF)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def list_(ctx: click.Context, workspace: str, as_json: bool) -> None:
    """List a workspace's members and their roles."""

    async def body(session: Session) -> None:
        chosen = await _workspace(session.client, workspace)
        if as_json:
            output.echo_json([output.wire(m) for m in chosen.users])
            return
        output.echo_table(
            ["USER ID", "EMAIL", "NAME", "ROLE"],
            [[m.user_id, m.user.email if m.user else None,
              " ".join(p for p in (m.user.name, m.user.last_name) if p) if m.user else None,
              str(m.role)] for m in chosen.users],
            empty=f"Workspace {chosen.name} has no members.")

    run_with_session(ctx, body)


@member.command("add")
@click.argument("workspace", metavar="WORKSPACE", type=REF)
@click.argument("user", metavar="USER", type=REF)
@click.option("--role", required=True, type=ROLE, help="READ, WRITE or ADMIN.")
@connection_options
@click.pass_context
def add(ctx: click.Context, workspace: str, user: str, role: str) -> None:
    """Add USER (an e-mail of someone in a workspace you can see, or a user id)."""
    from flashback_tui.api.models import MemberAdd

    require_writable(ctx)

    async def body(session: Session) -> tuple[Workspace, str]:
        chosen = await resolve_workspace(session.client, workspace)
        user_id = await user_id_for(session.client, user)
        request = build_model(MemberAdd, userId=user_id, role=role.upper())
        await session.client.add_user_to_workspace(chosen.id, request)
        return chosen, user_id

    chosen, user_id = run_with_session(ctx, body)
    click.echo(f"Added {output.clean(user)} ({user_id}) to {output.clean(chosen.name)} as "
               f"{role.upper()}.", err=True)


@member.command("role")
@click.argument("workspace", metavar="WORKSPACE", type=REF)
@click.argument("user", metavar="USER", type=REF)
@click.option("--role", required=True, type=ROLE, help="READ, WRITE or ADMIN.")
@connection_options
@click.pass_context
def role(ctx: click.Context, workspace: str, user: str, role: str) -> None:
    """Change a member's role (a workspace keeps at least one ADMIN)."""
    from flashback_tui.api.models import MemberRoleUpdate

    require_writable(ctx)
    request = build_model(MemberRoleUpdate, role=role.upper())

    async def body(session: Session) -> tuple[Workspace, WorkspaceUser]:
        chosen = await _workspace(session.client, workspace)
        membership = _member_of(chosen, user)
        await session.client.update_workspace_user_role(chosen.id, membership.user_id,
                                                        request)
        return chosen, membership

    chosen, membership = run_with_session(ctx, body)
    click.echo(f"{output.clean(_label(membership))} is now {role.upper()} in "
               f"{output.clean(chosen.name)}.", err=True)


@member.command("remove")
@click.argument("workspace", metavar="WORKSPACE", type=REF)
@click.argument("user", metavar="USER", type=REF)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def remove(ctx: click.Context, workspace: str, user: str, yes: bool) -> None:
    """Remove a member (not the last ADMIN)."""
    require_writable(ctx)
    check_confirmable(yes, "removing a member")

    async def body(session: Session) -> tuple[Workspace, WorkspaceUser]:
        chosen = await _workspace(session.client, workspace)
        membership = _member_of(chosen, user)
        question = (f"Remove {output.clean(_label(membership))} from "
                    f"{output.clean(chosen.name)}?")
        if not confirmed(yes, question):
            raise declined("removed")
        await session.client.remove_user_from_workspace(chosen.id, membership.user_id)
        return chosen, membership

    chosen, membership = run_with_session(ctx, body)
    click.echo(f"Removed {output.clean(_label(membership))} from {output.clean(chosen.name)}.",
               err=True)
