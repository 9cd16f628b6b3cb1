"""``flashback-tui repo ...``: repositories and the configurations they use.

``PUT /repo/{id}`` takes the whole document, so ``update`` reads the repository first and
sends it back with the change; ``--llm`` replaces the linked configurations (``--no-llm``
unlinks them all, so a configuration can then be deleted).
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
from flashback_tui.commands.lookup import (
    resolve_llms,
    resolve_repo,
    resolve_workspace,
    workspace_names,
)
from flashback_tui.commands.params import CONFIG_REF, REF

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Repo
    from flashback_tui.connect import Session

STORAGE_TYPES = click.Choice(["S3", "GCS", "BLOB"], case_sensitive=False)
MODES = click.Choice(["NORMAL", "MIRROR"], case_sensitive=False)
_WORKSPACE_HELP = "Look the name up in this workspace."


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def repo() -> None:
    """Manage repositories (scriptable; see docs/cli.md).

    REPO is a repository's id or name; CONFIG a configuration's id or name, looked up in the
    repository's workspace.
    """


def _llm_names(item: Repo) -> str:
    links = item.ai_llms or []
    names = [link.ai_llm.name if link.ai_llm else (link.ai_llm_id or "?") for link in links]
    return ", ".join(names) if names else output.EMPTY


def _active_keys(item: Repo) -> int:
    return sum(not key.revoked for key in item.ai_api_keys or [])


@repo.command("list")
@click.option("--workspace", metavar="NAME_OR_ID", help="Only this workspace.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def list_(ctx: click.Context, workspace: str | None, as_json: bool) -> None:
    """List repositories (all workspaces you can access unless --workspace)."""

    async def body(session: Session) -> None:
        client = session.client
        workspace_id = (await resolve_workspace(client, workspace)).id if workspace else None
        repos = (await client.get_repos(workspace_id)).repos
        if as_json:
            output.echo_json([output.wire(item) for item in repos])
            return
        names = await workspace_names(client)
        output.echo_table(
            ["ID", "NAME", "WORKSPACE", "CONFIGURATIONS", "KEYS", "CREATED"],
            [[item.id, item.name, names.get(item.workspace_id, item.workspace_id),
              _llm_names(item), _active_keys(item), output.wire(item).get("createdAt")]
             for item in repos],
            right=[4],
            empty="No repositories. Add one with: flashback-tui repo create NAME "
                  "--workspace WORKSPACE --llm CONFIG",
        )

    run_with_session(ctx, body)


@repo.command("show")
@click.argument("ref", metavar="REPO", type=REF)
@click.option("--workspace", metavar="NAME_OR_ID", help=_WORKSPACE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def show(ctx: click.Context, ref: str, workspace: str | None, as_json: bool) -> None:
    """Show one repository, its configurations and its AI keys."""

    async def body(session: Session) -> None:
        item = await resolve_repo(session.client, ref, workspace)
        if as_json:
            output.echo_json(output.wire(item))
            return
        names = await workspace_names(session.client)
        links = [f"{link.ai_llm.name if link.ai_llm else '?'} ({link.ai_llm_id})"
                 for link in item.ai_llms or []]
        keys = [f"{key.name} ({key.id}{', revoked' if key.revoked else ''})"
                for key in item.ai_api_keys or []]
        output.echo_fields([
            ("ID", item.id), ("Name", item.name),
            ("Workspace", f"{names.get(item.workspace_id, item.workspace_id)} "
                          f"({item.workspace_id})"),
            ("Storage", f"{item.storage_type} / {item.mode}"),
            ("Created", output.wire(item).get("createdAt")),
            ("Configurations", ", ".join(links)), ("AI keys", ", ".join(keys)),
        ])

    run_with_session(ctx, body)


async def _links(client: FlashbackClient, refs: tuple[str, ...], workspace_id: str
                 ) -> list[dict[str, str]]:
    """``repoAiLlms`` for the configurations ``refs`` name in the workspace."""
    llms = await resolve_llms(client, list(refs), workspace_id) if refs else []
    return [{"aiLlmId": llm.id} for llm in llms]


@repo.command("create")
@click.argument("name")
@click.option("--workspace", metavar="NAME_OR_ID", required=True, help="Workspace to create it in.")
@click.option("--llm", "llms", metavar="CONFIG", multiple=True, type=CONFIG_REF,
              help="A configuration it uses (repeat for several).")
@click.option("--storage-type", default="S3", show_default=True, type=STORAGE_TYPES,
              help="Storage kind (opaque to AI features).")
@click.option("--mode", default="NORMAL", show_default=True, type=MODES,
              help="Storage mode (opaque to AI features).")
@connection_options
@click.pass_context
def create(ctx: click.Context, name: str, workspace: str, llms: tuple[str, ...],
           storage_type: str, mode: str) -> None:
    """Create a repository and print its id."""
    from flashback_tui.api.models import RepoWrite

    require_writable(ctx)
    fields = {"name": name, "storageType": storage_type.upper(), "mode": mode.upper()}
    build_model(RepoWrite, **fields, workspaceId="pending")

    async def body(session: Session) -> str:
        target = await resolve_workspace(session.client, workspace)
        links = await _links(session.client, llms, target.id)
        request = build_model(RepoWrite, **fields, workspaceId=target.id, repoAiLlms=links)
        return (await session.client.create_repo(request)).repo_id

    click.echo(run_with_session(ctx, body))


def full_document(item: Repo, **changes: Any) -> dict[str, Any]:
    """The repository as ``PUT /repo/{id}`` takes it, with ``changes`` applied."""
    document: dict[str, Any] = {
        "name": item.name, "storageType": str(item.storage_type), "mode": str(item.mode),
        "workspaceId": item.workspace_id,
        "repoAiLlms": [{"aiLlmId": llm_id} for llm_id in item.linked_llm_ids()],
        "repoBuckets": list(item.buckets),
    }
    if item.wallet_address is not None:
        document["walletAddress"] = item.wallet_address
    document.update(changes)
    return document


@repo.command("update")
@click.argument("ref", metavar="REPO", type=REF)
@click.option("--name", help="New name.")
@click.option("--llm", "llms", metavar="CONFIG", multiple=True, type=CONFIG_REF,
              help="Replace the linked configurations with these (repeat for several).")
@click.option("--no-llm", is_flag=True, help="Unlink every configuration.")
@click.option("--workspace", metavar="NAME_OR_ID", help=_WORKSPACE_HELP)
@connection_options
@click.pass_context
def update(ctx: click.Context, ref: str, name: str | None, llms: tuple[str, ...],
           no_llm: bool, workspace: str | None) -> None:
    """Rename a repository or replace the configurations it uses."""
    from flashback_tui.api.models import RepoWrite

    require_writable(ctx)
    if llms and no_llm:
        raise click.UsageError("use either --llm or --no-llm, not both")
    if name is None and not llms and not no_llm:
        raise click.UsageError("nothing to update: pass --name, --llm and/or --no-llm")

    async def body(session: Session) -> Repo:
        item = await resolve_repo(session.client, ref, workspace)
        changes: dict[str, Any] = {"name": name} if name is not None else {}
        if llms or no_llm:
            changes["repoAiLlms"] = await _links(session.client, llms, item.workspace_id)
        request = build_model(RepoWrite, **full_document(item, **changes))
        await session.client.update_repo(item.id, request)
        return item

    item = run_with_session(ctx, body)
    click.echo(f"Updated repository {item.id} ({output.clean(name or item.name)}).", err=True)


@repo.command("delete")
@click.argument("ref", metavar="REPO", type=REF)
@click.option("--workspace", metavar="NAME_OR_ID", help=_WORKSPACE_HELP)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def delete(ctx: click.Context, ref: str, workspace: str | None, yes: bool) -> None:
    """Delete a repository; its AI keys stop working at once."""
    require_writable(ctx)
    check_confirmable(yes)

    async def body(session: Session) -> Repo:
        item = await resolve_repo(session.client, ref, workspace)
        keys = _active_keys(item)
        question = (f"Delete repository {output.clean(item.name)} ({item.id}) and its "
                    f"{keys} AI key(s) for good?")
        if not confirmed(yes, question):
            raise declined("deleted")
        await session.client.delete_repo(item.id)
        return item

    item = run_with_session(ctx, body)
    click.echo(f"Deleted repository {item.id} ({output.clean(item.name)}).", err=True)
