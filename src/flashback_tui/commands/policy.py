"""``flashback-tui policy ...``: the rules the gateway checks prompts against.

A policy applies to the whole organisation (neither ``--workspace`` nor ``--repo``), to a
workspace, or to a repository. Its content is given with ``--content TEXT``, read from a
file with ``--content-file PATH`` (``-`` for stdin), or piped in on stdin. Validation and
recommendations live in :mod:`flashback_tui.commands.policy_advice`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    SecretSafeGroup,
    build_model,
    check_confirmable,
    confirmed,
    connection_options,
    declined,
    require_writable,
    run_with_session,
)
from flashback_tui.commands.lookup import org_id_of, resolve_policy, scope_ids
from flashback_tui.commands.params import ACTION, ACTIONS, REF, RISK
from flashback_tui.commands.policy_advice import content_options, read_content, recommend, validate

if TYPE_CHECKING:
    from flashback_tui.api.models import Policy
    from flashback_tui.connect import Session

#: Action number -> name, as the CLI shows it.
ACTION_NAMES = {number: name for name, number in ACTIONS.items()}


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def policy() -> None:
    """Manage policies (scriptable; see docs/cli.md).

    POLICY is a policy's id or name. --action is log, alert or block; --risk low, medium or
    high. With neither --workspace nor --repo a policy covers the whole organisation.
    """


policy.add_command(validate)
policy.add_command(recommend)


def scope_of(item: Policy) -> str:
    """``org``, ``workspace NAME`` or ``repo NAME``."""
    if item.repo_id:
        return f"repo {item.repo.name if item.repo else item.repo_id}"
    if item.workspace_id:
        return f"workspace {item.workspace.name if item.workspace else item.workspace_id}"
    return "org"


def _action(item: Policy) -> str:
    return ACTION_NAMES.get(int(item.action_type), str(item.action_type))


_SCOPE_WORKSPACE = click.option("--workspace", metavar="NAME_OR_ID",
                                help="A workspace's policies (scope).")
_SCOPE_REPO = click.option("--repo", "repo_ref", metavar="REPO",
                           help="A repository's policies (scope).")


@policy.command("list")
@_SCOPE_WORKSPACE
@_SCOPE_REPO
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def list_(ctx: click.Context, workspace: str | None, repo_ref: str | None,
          as_json: bool) -> None:
    """List the policies you can see (all scopes unless --workspace or --repo)."""

    async def body(session: Session) -> None:
        client = session.client
        workspace_id, repo_id = await scope_ids(client, workspace, repo_ref)
        if repo_id:
            workspace_id = None
        policies = (await client.get_policies(await org_id_of(client), workspace_id,
                                              repo_id)).policies
        if as_json:
            output.echo_json([output.wire(item) for item in policies])
            return
        output.echo_table(
            ["ID", "NAME", "SCOPE", "RISK", "ACTION", "CONTENT"],
            [[p.id, p.name, scope_of(p), str(p.risk_type), _action(p),
              p.content.splitlines()[0][:60] if p.content else ""] for p in policies],
            empty="No policies. Add one with: flashback-tui policy create --name NAME "
                  "--risk high --action block --content 're:sk-[A-Za-z0-9]{20,}'",
        )

    run_with_session(ctx, body)


@policy.command("show")
@click.argument("ref", metavar="POLICY", type=REF)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one policy with its whole content."""

    async def body(session: Session) -> None:
        item = await resolve_policy(session.client, ref)
        if as_json:
            output.echo_json(output.wire(item))
            return
        data = output.wire(item)
        output.echo_fields([
            ("ID", item.id), ("Name", item.name), ("Scope", scope_of(item)),
            ("Risk", str(item.risk_type)), ("Action", _action(item)),
            ("Created", data.get("createdAt")), ("Updated", data.get("lastUpdatedAt")),
        ])
        click.echo("")
        click.echo(item.content)

    run_with_session(ctx, body)


@policy.command("create")
@click.option("--name", required=True, help="Name of the policy.")
@click.option("--risk", required=True, type=RISK, help="low, medium or high.")
@click.option("--action", required=True, type=ACTION, help="log, alert or block.")
@content_options
@_SCOPE_WORKSPACE
@_SCOPE_REPO
@connection_options
@click.pass_context
def create(ctx: click.Context, name: str, risk: str, action: str, content: str | None,
           content_file: str | None, workspace: str | None, repo_ref: str | None) -> None:
    """Create a policy and print its id."""
    from flashback_tui.api.models import PolicyCreate

    require_writable(ctx)
    text = read_content(content, content_file, required=True)
    fields = {"name": name, "content": text, "riskType": risk.upper(),
              "actionType": ACTIONS[action.lower()]}
    build_model(PolicyCreate, **fields, orgId="pending")

    async def body(session: Session) -> str:
        client = session.client
        workspace_id, repo_id = await scope_ids(client, workspace, repo_ref)
        request = build_model(PolicyCreate, **fields, orgId=await org_id_of(client),
                              workspaceId=workspace_id, repoId=repo_id)
        return (await client.create_policy(request)).policy.id

    click.echo(run_with_session(ctx, body))


@policy.command("update")
@click.argument("ref", metavar="POLICY", type=REF)
@click.option("--name", help="New name.")
@click.option("--risk", type=RISK, help="low, medium or high.")
@click.option("--action", type=ACTION, help="log, alert or block.")
@content_options
@click.option("--json", "as_json", is_flag=True, help="Print the updated policy as JSON.")
@connection_options
@click.pass_context
def update(ctx: click.Context, ref: str, name: str | None, risk: str | None,
           action: str | None, content: str | None, content_file: str | None,
           as_json: bool) -> None:
    """Change a policy's name, risk, action or content (the rest stays)."""
    from flashback_tui.api.models import PolicyUpdate

    require_writable(ctx)
    text = read_content(content, content_file, required=False)
    fields: dict[str, Any] = {k: v for k, v in {
        "name": name, "content": text, "riskType": risk.upper() if risk else None,
        "actionType": ACTIONS[action.lower()] if action else None}.items() if v is not None}
    if not fields:
        raise click.UsageError("nothing to update: pass --name, --risk, --action or content")
    request = build_model(PolicyUpdate, **fields)

    async def body(session: Session) -> Policy:
        item = await resolve_policy(session.client, ref)
        return (await session.client.update_policy(item.id, request)).policy

    item = run_with_session(ctx, body)
    if as_json:
        output.echo_json(output.wire(item))
    click.echo(f"Updated policy {item.id} ({output.clean(item.name)}).", err=True)


@policy.command("delete")
@click.argument("ref", metavar="POLICY", type=REF)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def delete(ctx: click.Context, ref: str, yes: bool) -> None:
    """Delete a policy (its violations and alerts are kept)."""
    require_writable(ctx)
    check_confirmable(yes)

    async def body(session: Session) -> Policy:
        item = await resolve_policy(session.client, ref)
        if not confirmed(yes, f"Delete policy {output.clean(item.name)} ({item.id})?"):
            raise declined("deleted")
        await session.client.delete_policy(item.id)
        return item

    item = run_with_session(ctx, body)
    click.echo(f"Deleted policy {item.id} ({output.clean(item.name)}).", err=True)
