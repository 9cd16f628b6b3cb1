"""``flashback-tui llm ...``: AI LLM configurations, for scripts.

Every command speaks to the platform through the same client, profiles and credentials as
the TUI. Human output is an aligned table; ``--json`` prints the wire shape (camelCase, never
a secret) documented in docs/cli.md, as are the exit codes (see ``common.ExitCode``).
Arguments are checked locally with the wire models before anything is sent. A configuration
is named by its id or its name (see :mod:`flashback_tui.commands.lookup`). ``update`` and
``rotate`` live in :mod:`~flashback_tui.commands.llm_change`, ``validate`` and ``stats`` in
:mod:`~flashback_tui.commands.llm_validate`.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Container, Sequence
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    SecretSafeGroup,
    SecretSources,
    build_model,
    check_confirmable,
    confirmed,
    connection_options,
    declined,
    read_credentials,
    require_writable,
    run_with_session,
    secret_options,
)
from flashback_tui.commands.llm_change import rotate, update
from flashback_tui.commands.llm_validate import stats, validate
from flashback_tui.commands.lookup import pick_workspace, resolve_llm, resolve_workspace
from flashback_tui.commands.params import AI_TYPE, CONFIG_REF

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import AiLlm, AiType
    from flashback_tui.connect import Session

__all__ = ["AI_TYPE", "llm", "pick_workspace", "public", "status_of"]


# ---------------------------------------------------------------------------------------------
# Views shared by list and show
# ---------------------------------------------------------------------------------------------


def public(llm: AiLlm) -> dict[str, Any]:
    """The ``--json`` shape of a configuration: the wire object, with the key masked."""
    from flashback_tui.api.models import mask_key

    data = output.wire(llm)
    key = data.get("key")
    if key and not str(key).startswith("****"):
        data["key"] = mask_key(key)
    return data


def status_of(llm: AiLlm, available: Container[str] | None = None) -> str:
    """The status column, by the rule of :mod:`flashback_tui.domain.status`."""
    from flashback_tui.domain.status import config_status

    return config_status(llm, available=available).state.value


def _repo_count(llm: AiLlm) -> int | str:
    """How many repositories use it, or ``-`` when the platform did not say."""
    return output.EMPTY if llm.repos is None else len(llm.repos)


async def availability(client: FlashbackClient, llms: Sequence[AiLlm],
                       listed_available: bool) -> set[str] | None:
    """The ids of ``/ai/llm/available``, fetched only when some row carries no status."""
    from flashback_tui.domain.status import needs_availability

    if listed_available:
        return {item.id for item in llms}
    if not needs_availability(list(llms)):
        return None
    return {item.id for item in (await client.get_available_ai_llms()).ai_llms}


# ---------------------------------------------------------------------------------------------
# The group
# ---------------------------------------------------------------------------------------------


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def llm() -> None:
    """Manage AI LLM configurations (scriptable; see docs/cli.md).

    CONFIG is a configuration's id or name (looked up in --workspace, or in every workspace
    you can see). Secrets are read only from standard input (--secret-stdin) or from an
    environment variable named with --secret-env VAR, never from the command line.
    """


llm.add_command(update)
llm.add_command(rotate)
llm.add_command(validate)
llm.add_command(stats)


def _output_format(as_json: bool, as_csv: bool) -> str:
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    return "json" if as_json else "csv" if as_csv else "table"


#: The workspace id a create body holds until ``--workspace`` is resolved.
PENDING_WORKSPACE = "pending"

LIST_COLUMNS = ["id", "name", "aiType", "workspaceId", "workspaceName", "endpoint", "key",
                "validationStatus", "validatedAt", "createdAt", "repos"]


@llm.command("list")
@click.option("--workspace", metavar="NAME_OR_ID", help="Only this workspace.")
@click.option("--available", is_flag=True,
              help="Only configurations ready for use (validated and active).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@connection_options
@click.pass_context
def list_(ctx: click.Context, workspace: str | None, available: bool, as_json: bool,
          as_csv: bool) -> None:
    """List configurations (all workspaces you can access unless --workspace)."""
    fmt = _output_format(as_json, as_csv)

    async def body(session: Session) -> None:
        client = session.client
        if workspace and not available:
            all_workspaces = (await client.get_workspaces()).workspaces
            chosen = pick_workspace(all_workspaces, workspace)
            llms = (await client.get_ai_llms(chosen.id)).ai_llms
        else:
            fetch = client.get_available_ai_llms() if available else client.get_ai_llms()
            listed, answer = await asyncio.gather(client.get_workspaces(), fetch)
            all_workspaces, llms = listed.workspaces, answer.ai_llms
            if workspace:
                chosen_id = pick_workspace(all_workspaces, workspace).id
                llms = [item for item in llms if item.workspace_id == chosen_id]
        names = {w.id: w.name for w in all_workspaces}
        ready = await availability(client, llms, available) if fmt == "table" else None
        _print_list(llms, names, fmt, _empty_list_note(workspace, available), ready)

    run_with_session(ctx, body)


def _print_list(llms: Sequence[AiLlm], workspace_names: dict[str, str], fmt: str,
                empty: str, available: Container[str] | None = None) -> None:
    if fmt == "json":
        output.echo_json([public(item) for item in llms])
        return
    if fmt == "csv":
        rows = []
        for item in llms:
            data = public(item)
            data["workspaceName"] = workspace_names.get(item.workspace_id)
            data["repos"] = _repo_count(item)
            rows.append([data.get(column) for column in LIST_COLUMNS])
        output.echo_csv(LIST_COLUMNS, rows)
        return
    output.echo_table(
        ["ID", "NAME", "TYPE", "WORKSPACE", "STATUS", "REPOS", "ENDPOINT"],
        [[item.id, item.name, str(item.ai_type),
          workspace_names.get(item.workspace_id, item.workspace_id),
          status_of(item, available), _repo_count(item), item.endpoint] for item in llms],
        right=[5],
        empty=empty,
    )


def _empty_list_note(workspace: str | None, available: bool) -> str:
    """What an empty ``llm list`` tells the user, and what to do about it."""
    where = f"in workspace {workspace}" if workspace else "in your workspaces"
    if available:
        return (f"No configuration is available {where} (validated and active). "
                "Validate them with: flashback-tui llm validate --all")
    target = shlex.quote(workspace) if workspace else "WORKSPACE"
    return (f"No configurations {where}. Add one with: flashback-tui llm create --name NAME "
            f"--type OPENAI --workspace {target} --secret-stdin")


@llm.command("show")
@click.argument("ref", metavar="CONFIG", type=CONFIG_REF)
@click.option("--workspace", metavar="NAME_OR_ID", help="Look the name up in this workspace.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def show(ctx: click.Context, ref: str, workspace: str | None, as_json: bool) -> None:
    """Show one configuration (by id or name)."""

    async def body(session: Session) -> None:
        item, listed = await asyncio.gather(resolve_llm(session.client, ref, workspace),
                                            session.client.get_workspaces())
        if as_json:
            output.echo_json(public(item))
            return
        names = {w.id: w.name for w in listed.workspaces}
        status = status_of(item, await availability(session.client, [item], False))
        _print_one(item, names, status)

    run_with_session(ctx, body)


def _print_one(item: AiLlm, names: dict[str, str], status: str) -> None:
    data = public(item)
    if item.validated_at is not None:
        status = f"{status} (at {data['validatedAt']})"
    repos = (output.EMPTY if item.repos is None
             else ", ".join(f"{repo.name} ({repo.id})" for repo in item.repos))
    output.echo_fields([
        ("ID", item.id),
        ("Name", item.name),
        ("Type", str(item.ai_type)),
        ("Endpoint", item.endpoint),
        ("Key", data.get("key")),
        ("Workspace", f"{names.get(item.workspace_id, item.workspace_id)} "
                      f"({item.workspace_id})"),
        ("Status", status),
        ("Message", item.validation_message),
        ("Created", data.get("createdAt")),
        ("Repos", repos),
    ])


@llm.command("create")
@click.option("--name", required=True, help="Name, unique within its workspace.")
@click.option("--type", "ai_type", required=True, type=AI_TYPE, help="Provider family.")
@click.option("--endpoint", metavar="URL",
              help="Provider API base URL (default: the provider's usual one; OTHER needs it).")
@click.option("--workspace", metavar="NAME_OR_ID",
              help="Workspace to create it in (default: the profile's default_workspace).")
@secret_options(with_key=True)
@connection_options
@click.pass_context
def create(ctx: click.Context, name: str, ai_type: AiType, endpoint: str | None,
           workspace: str | None, key_stdin: bool, key_env: str | None, secret_stdin: bool,
           secret_env: str | None) -> None:
    """Create a configuration and print its id.

    The secret comes from stdin (--secret-stdin) or an environment variable
    (--secret-env VAR). With --key-stdin and --secret-stdin both, stdin holds the key on the
    first line and the secret on the second.
    """
    from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiLlmCreate, AiType

    require_writable(ctx)
    if endpoint is None and DEFAULT_ENDPOINTS[ai_type] is None:
        raise click.UsageError(f"--endpoint is required with --type {ai_type.value}")
    sources = SecretSources(key_stdin, key_env, secret_stdin, secret_env)
    if ai_type is AiType.AWS and not (key_stdin or key_env):
        raise click.UsageError("--type AWS needs the access key id as the key: pass "
                               "--key-stdin or --key-env VAR (and the secret access key)")
    key, secret = read_credentials(sources, require_secret=ai_type is not AiType.OTHER)
    # Everything but the workspace is checked now, before any request; the workspace id
    # is known only once NAME_OR_ID is resolved online, so a stand-in fills it meanwhile.
    fields = {"name": name, "aiType": ai_type, "endpoint": endpoint, "key": key,
              "secret": secret, "workspaceId": PENDING_WORKSPACE}
    draft = build_model(AiLlmCreate, **{k: v for k, v in fields.items() if v is not None})

    async def body(session: Session) -> str:
        wanted = workspace or session.profile.default_workspace
        if not wanted:
            raise click.UsageError("--workspace is required (the profile has no "
                                   "default_workspace)")
        target = await resolve_workspace(session.client, wanted)
        request = draft.model_copy(update={"workspace_id": target.id})
        return (await session.client.create_ai_llm(request)).ai_llm_id

    click.echo(run_with_session(ctx, body))


@llm.command("delete")
@click.argument("ref", metavar="CONFIG", type=CONFIG_REF)
@click.option("--workspace", metavar="NAME_OR_ID", help="Look the name up in this workspace.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def delete(ctx: click.Context, ref: str, workspace: str | None, yes: bool) -> None:
    """Delete a configuration and its stored credentials for good."""
    require_writable(ctx)
    check_confirmable(yes)

    async def body(session: Session) -> AiLlm:
        item = await resolve_llm(session.client, ref, workspace)
        if not confirmed(yes, f"Delete {output.clean(item.name)} ({item.id}) for good?"):
            raise declined("deleted")
        await session.client.delete_ai_llm(item.id)
        return item

    deleted = run_with_session(ctx, body)
    click.echo(f"Deleted {deleted.id} ({output.clean(deleted.name)}).", err=True)
