"""``flashback-tui key ...``: a repository's AI API keys (what applications send the gateway).

``key create`` prints the new key's secret on stdout and nothing else there, once: no other
command or answer ever shows it again. Listings show the public key and whether it was
revoked, never a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from flashback_tui.commands.lookup import pick, resolve_repo
from flashback_tui.commands.params import AI_TYPE, REF

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import AiType, Repo, RepoAiApiKey
    from flashback_tui.connect import Session

#: Said on stderr when a secret is printed.
STORE_IT_NOW = "Store the secret now: it is not shown again."


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def key() -> None:
    """Manage a repository's AI API keys (scriptable; see docs/cli.md).

    REPO is a repository's id or name; KEY a key's id or name within it.
    """


async def _keys(client: FlashbackClient, repo_ref: str, workspace: str | None
                ) -> tuple[Repo, list[RepoAiApiKey]]:
    item = await resolve_repo(client, repo_ref, workspace)
    return item, (await client.get_repo_ai_api_keys(item.id)).api_keys


def _pick_key(keys: list[RepoAiApiKey], wanted: str, repo: Repo) -> RepoAiApiKey:
    """An active key by id or name (a revoked one only by id)."""
    active = [k for k in keys if not k.revoked] + [k for k in keys if k.revoked and k.id == wanted]
    return pick("AI key", active, wanted, id_of=lambda k: k.id, name_of=lambda k: k.name,
                scope=f"repository {repo.name}")


_WORKSPACE = click.option("--workspace", metavar="NAME_OR_ID",
                          help="Look the repository up in this workspace.")


@key.command("list")
@click.argument("repo_ref", metavar="REPO", type=REF)
@_WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def list_(ctx: click.Context, repo_ref: str, workspace: str | None, as_json: bool) -> None:
    """List a repository's AI keys, revoked ones marked."""

    async def body(session: Session) -> None:
        item, keys = await _keys(session.client, repo_ref, workspace)
        if as_json:
            output.echo_json([output.wire(k) for k in keys])
            return
        output.echo_table(
            ["ID", "NAME", "TYPE", "KEY", "CREATED", "STATE"],
            [[k.id, k.name, str(k.ai_type), k.key, output.wire(k).get("createdAt"),
              "revoked" if k.revoked else "active"] for k in keys],
            empty=f"Repository {item.name} has no AI keys. Add one with: flashback-tui key "
                  f"create {item.id} --name NAME",
        )

    run_with_session(ctx, body)


@key.command("create")
@click.argument("repo_ref", metavar="REPO", type=REF)
@click.option("--name", required=True, help="Name of the key (e.g. the service using it).")
@click.option("--type", "ai_type", type=AI_TYPE, default="OPENAI", show_default=True,
              help="The API style applications speak with it.")
@_WORKSPACE
@connection_options
@click.pass_context
def create(ctx: click.Context, repo_ref: str, name: str, ai_type: AiType,
           workspace: str | None) -> None:
    """Create an AI key and print its secret (once, on stdout; nothing else goes there)."""
    from flashback_tui.api.models import RepoAiApiKeyCreate

    require_writable(ctx)
    request = build_model(RepoAiApiKeyCreate, name=name, aiType=ai_type)

    async def body(session: Session) -> tuple[str, str, str]:
        item = await resolve_repo(session.client, repo_ref, workspace)
        created = await session.client.create_repo_ai_api_key(item.id, request)
        return created.id, created.key, created.secret.get_secret_value()

    key_id, public_key, secret = run_with_session(ctx, body)
    click.echo(f"Created AI key {output.clean(name)} ({key_id}), key {public_key}. "
               f"{STORE_IT_NOW}", err=True)
    click.echo(secret)


@key.command("rename")
@click.argument("repo_ref", metavar="REPO", type=REF)
@click.argument("key_ref", metavar="KEY", type=REF)
@click.option("--name", required=True, help="The new name.")
@_WORKSPACE
@connection_options
@click.pass_context
def rename(ctx: click.Context, repo_ref: str, key_ref: str, name: str,
           workspace: str | None) -> None:
    """Rename an AI key."""
    from flashback_tui.api.models import RepoAiApiKeyUpdate

    require_writable(ctx)
    request = build_model(RepoAiApiKeyUpdate, name=name)

    async def body(session: Session) -> RepoAiApiKey:
        item, keys = await _keys(session.client, repo_ref, workspace)
        chosen = _pick_key(keys, key_ref, item)
        await session.client.update_repo_ai_api_key(item.id, chosen.id, request)
        return chosen

    chosen = run_with_session(ctx, body)
    click.echo(f"Renamed AI key {chosen.id} to {output.clean(name)}.", err=True)


@key.command("revoke")
@click.argument("repo_ref", metavar="REPO", type=REF)
@click.argument("key_ref", metavar="KEY", type=REF)
@_WORKSPACE
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def revoke(ctx: click.Context, repo_ref: str, key_ref: str, workspace: str | None,
           yes: bool) -> None:
    """Revoke an AI key: the gateway refuses it from now on."""
    require_writable(ctx)
    check_confirmable(yes, "revoking")

    async def body(session: Session) -> RepoAiApiKey:
        item, keys = await _keys(session.client, repo_ref, workspace)
        chosen = _pick_key(keys, key_ref, item)
        question = (f"Revoke AI key {output.clean(chosen.name)} ({chosen.id}) of "
                    f"{output.clean(item.name)}? Applications using it stop working.")
        if not confirmed(yes, question):
            raise declined("revoked")
        await session.client.delete_repo_ai_api_key(item.id, chosen.id)
        return chosen

    chosen = run_with_session(ctx, body)
    click.echo(f"Revoked AI key {chosen.id} ({output.clean(chosen.name)}).", err=True)
