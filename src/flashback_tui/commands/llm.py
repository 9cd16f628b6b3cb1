"""``flashback-tui llm ...`` and ``flashback-tui workspaces``: the scriptable CLI.

Every command speaks to the platform through the same client, profiles and credentials as
the TUI. Human output is an aligned table; ``--json`` prints the wire shape (camelCase, never
a secret) documented in docs/cli.md, as are the exit codes (see ``common.ExitCode``).
Arguments are checked locally with the wire models before anything is sent.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import uuid
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSafeCommand,
    SecretSafeGroup,
    SecretSources,
    build_model,
    connection_options,
    exit_code_for,
    read_credentials,
    require_writable,
    run_with_session,
    secret_options,
)

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.errors import FlashbackError
    from flashback_tui.api.models import AiLlm, AiType, Workspace
    from flashback_tui.connect import Session


# ---------------------------------------------------------------------------------------------
# Parameter types (the models are imported lazily, so `--help` and completion stay fast)
# ---------------------------------------------------------------------------------------------


class AiTypeParam(click.ParamType):
    """``--type``: one of models.AiType, case-insensitive, completed by the shell."""

    name = "type"

    @staticmethod
    def _choices() -> list[str]:
        from flashback_tui.api.models import AiType

        return [member.value for member in AiType]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "OPENAI|GOOGLE|ANTHROPIC|AWS|OTHER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from flashback_tui.api.models import AiType

        if isinstance(value, AiType):
            return value
        text = str(value).strip().upper()
        if text not in self._choices():
            self.fail(f"{value!r} is not one of {', '.join(self._choices())}", param, ctx)
        return AiType(text)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(choice) for choice in self._choices()
                if choice.startswith(incomplete.upper())]


class IdParam(click.ParamType):
    """A configuration id: a UUID, checked before anything is sent."""

    name = "id"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        try:
            uuid.UUID(text)
        except ValueError:
            self.fail(f"{text!r} is not a configuration id (a UUID such as "
                      "550e8400-e29b-41d4-a716-446655440000)", param, ctx)
        return text


AI_TYPE = AiTypeParam()
CONFIG_ID = IdParam()


# ---------------------------------------------------------------------------------------------
# Look-ups shared by the commands
# ---------------------------------------------------------------------------------------------


def pick_workspace(workspaces: Sequence[Workspace], wanted: str) -> Workspace:
    """The workspace whose id, or else name (exact, then case-insensitive), is ``wanted``."""
    for workspace in workspaces:
        if workspace.id == wanted:
            return workspace
    named = [w for w in workspaces if w.name == wanted] or [
        w for w in workspaces if w.name.casefold() == wanted.strip().casefold()
    ]
    if len(named) > 1:
        ids = ", ".join(f"{w.id} ({w.name})" for w in named)
        raise click.UsageError(f"--workspace {wanted!r} matches several workspaces; "
                               f"give one of the ids: {ids}")
    if not named:
        known = ", ".join(sorted(w.name for w in workspaces)) or "none"
        raise CliError(f"no workspace named or with id {wanted!r} among yours ({known})",
                       exit_code=ExitCode.NOT_FOUND,
                       hint="Run `flashback-tui workspaces` to list them.")
    return named[0]


async def resolve_workspace(client: FlashbackClient, wanted: str) -> Workspace:
    """Resolve a workspace NAME_OR_ID through ``GET /workspace``."""
    return pick_workspace((await client.get_workspaces()).workspaces, wanted)


def not_found(kind: str, ids: Sequence[str]) -> CliError:
    """The exit-4 error for configuration ids the caller cannot see."""
    from flashback_tui.api.errors import NotFoundError

    listed = ", ".join(ids)
    return CliError(f"no {kind} with id {listed} in your workspaces",
                    exit_code=ExitCode.NOT_FOUND, hint=NotFoundError.hint)


async def find_llm(client: FlashbackClient, llm_id: str) -> AiLlm:
    """The configuration ``llm_id`` (there is no single-item GET: the list is searched)."""
    for llm in (await client.get_ai_llms()).ai_llms:
        if llm.id == llm_id:
            return llm
    raise not_found("configuration", [llm_id])


def public(llm: AiLlm) -> dict[str, Any]:
    """The ``--json`` shape of a configuration: the wire object, with the key masked."""
    from flashback_tui.api.models import mask_key

    data = llm.model_dump(mode="json", by_alias=True)
    key = data.get("key")
    if key and not str(key).startswith("****"):
        data["key"] = mask_key(key)
    return data


def status_of(llm: AiLlm, available: Container[str] | None = None) -> str:
    """The status column, by the rule of :mod:`flashback_tui.domain.status`.

    The platform's ``validationStatus`` when it sent one, else ``VALID`` for a member of
    ``/ai/llm/available``, else ``UNKNOWN``.
    """
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


def _workspace_label(workspaces: dict[str, str], workspace_id: str) -> str:
    return workspaces.get(workspace_id, workspace_id)


# ---------------------------------------------------------------------------------------------
# workspaces
# ---------------------------------------------------------------------------------------------


@click.command(cls=SecretSafeCommand)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def workspaces(ctx: click.Context, as_json: bool) -> None:
    """List the workspaces you belong to."""

    async def body(session: Session) -> None:
        listed = (await session.client.get_workspaces()).workspaces
        if as_json:
            output.echo_json([w.model_dump(mode="json", by_alias=True) for w in listed])
            return
        output.echo_table(
            ["ID", "NAME", "MEMBERS"],
            [[w.id, w.name, len(w.users)] for w in listed],
            right=[2],
            empty="You belong to no workspace. An admin of one can add you "
                  "(on the local platform: flashback-tui admin member add).",
        )

    run_with_session(ctx, body)


# ---------------------------------------------------------------------------------------------
# llm
# ---------------------------------------------------------------------------------------------


@click.group(cls=SecretSafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@connection_options
def llm() -> None:
    """Manage AI LLM configurations (scriptable; see docs/cli.md).

    Secrets are read only from standard input (--secret-stdin) or from an environment
    variable named with --secret-env VAR, never from the command line.
    """


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
          _workspace_label(workspace_names, item.workspace_id), status_of(item, available),
          _repo_count(item), item.endpoint] for item in llms],
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
@click.argument("llm_id", metavar="ID", type=CONFIG_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def show(ctx: click.Context, llm_id: str, as_json: bool) -> None:
    """Show one configuration."""

    async def body(session: Session) -> None:
        item, listed = await asyncio.gather(
            find_llm(session.client, llm_id), session.client.get_workspaces()
        )
        if as_json:
            output.echo_json(public(item))
            return
        names = {w.id: w.name for w in listed.workspaces}
        data = public(item)
        status = status_of(item, await availability(session.client, [item], False))
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
            ("Workspace", f"{_workspace_label(names, item.workspace_id)} ({item.workspace_id})"),
            ("Status", status),
            ("Message", item.validation_message),
            ("Created", data.get("createdAt")),
            ("Repos", repos),
        ])

    run_with_session(ctx, body)


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


@llm.command("update")
@click.argument("llm_id", metavar="ID", type=CONFIG_ID)
@click.option("--name", help="New name.")
@click.option("--type", "ai_type", type=AI_TYPE, help="New provider family.")
@click.option("--endpoint", metavar="URL", help="New provider API base URL.")
@connection_options
@click.pass_context
def update(ctx: click.Context, llm_id: str, name: str | None, ai_type: AiType | None,
           endpoint: str | None) -> None:
    """Change a configuration's name, type or endpoint (use `rotate` for credentials)."""
    from flashback_tui.api.models import AiLlmUpdate

    require_writable(ctx)
    fields = {k: v for k, v in {"name": name, "aiType": ai_type, "endpoint": endpoint}.items()
              if v is not None}
    if not fields:
        raise click.UsageError("nothing to update: pass --name, --type and/or --endpoint")
    change = build_model(AiLlmUpdate, **fields)

    async def body(session: Session) -> str:
        return (await session.client.update_ai_llm(llm_id, change)).ai_llm_id

    updated = run_with_session(ctx, body)
    click.echo(f"Updated {updated}.")
    if ai_type is not None or endpoint is not None:
        click.echo(f"It needs validating again: flashback-tui llm validate {updated}", err=True)


@llm.command("rotate")
@click.argument("llm_id", metavar="ID", type=CONFIG_ID)
@secret_options(with_key=True)
@click.option("--validate", "then_validate", is_flag=True,
              help="Validate right after rotating (exit 6 if the new secret fails).")
@connection_options
@click.pass_context
def rotate(ctx: click.Context, llm_id: str, key_stdin: bool, key_env: str | None,
           secret_stdin: bool, secret_env: str | None, then_validate: bool) -> None:
    """Replace a configuration's secret (and key) from stdin or the environment."""
    from flashback_tui.api.models import AiLlmUpdate

    require_writable(ctx)
    sources = SecretSources(key_stdin, key_env, secret_stdin, secret_env)
    key, secret = read_credentials(sources, require_secret=True)
    change = build_model(AiLlmUpdate, **{k: v for k, v in {"key": key, "secret": secret}.items()
                                         if v is not None})

    async def body(session: Session) -> tuple[str, bool | None, str]:
        rotated = (await session.client.update_ai_llm(llm_id, change)).ai_llm_id
        if not then_validate:
            return rotated, None, ""
        result = await session.client.validate_ai_llm(rotated)
        return rotated, result.success, result.message

    rotated, valid, message = run_with_session(ctx, body)
    click.echo(f"Rotated the credentials of {rotated}.")
    if valid is None:
        click.echo(f"It needs validating again: flashback-tui llm validate {rotated}", err=True)
    elif valid:
        click.echo(f"VALID  {output.clean(message)}")
    else:
        click.echo(f"INVALID  {output.clean(message)}")
        ctx.exit(ExitCode.VALIDATION_FAILED)


@llm.command("delete")
@click.argument("llm_id", metavar="ID", type=CONFIG_ID)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@click.pass_context
def delete(ctx: click.Context, llm_id: str, yes: bool) -> None:
    """Delete a configuration and its stored credentials for good."""
    require_writable(ctx)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if not yes and not interactive:
        raise click.UsageError("deleting needs confirmation and standard input is not a "
                               "terminal: pass --yes to delete without asking")

    async def body(session: Session) -> str | None:
        if not yes:
            item = await find_llm(session.client, llm_id)
            question = f"Delete {output.clean(item.name)} ({item.id}) for good?"
            if not click.confirm(question, default=False, err=True):
                return None
        await session.client.delete_ai_llm(llm_id)
        return llm_id

    deleted = run_with_session(ctx, body)
    if deleted is None:
        click.echo("Nothing deleted.", err=True)
        ctx.exit(ExitCode.FAILURE)
    click.echo(f"Deleted {deleted}.")


# ---------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationOutcome:
    """The result of validating one configuration, or the API error that prevented it."""

    llm_id: str
    name: str
    success: bool
    message: str
    error: FlashbackError | None = None

    @property
    def status(self) -> str:
        """VALID, INVALID, or ERROR (the validation could not run)."""
        return "ERROR" if self.error else "VALID" if self.success else "INVALID"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` element of this outcome."""
        return {"aiLlmId": self.llm_id, "name": self.name, "status": self.status,
                "success": self.success, "message": self.message}


async def validate_all(client: FlashbackClient, targets: Sequence[AiLlm], concurrency: int,
                       on_result: Any) -> list[ValidationOutcome]:
    """Validate ``targets`` at most ``concurrency`` at a time; report in order as they land.

    An authentication or connection failure stops everything (it would fail every item);
    any other API error is reported as that item's ERROR outcome.
    """
    from flashback_tui.api.errors import (
        FlashbackConnectionError,
        FlashbackError,
        FlashbackTimeoutError,
        UnauthorizedError,
    )

    fatal = (UnauthorizedError, FlashbackConnectionError, FlashbackTimeoutError)
    gate = asyncio.Semaphore(concurrency)

    async def check(item: AiLlm) -> ValidationOutcome:
        async with gate:
            try:
                result = await client.validate_ai_llm(item.id)
            except fatal:
                raise
            except FlashbackError as exc:
                return ValidationOutcome(item.id, item.name, False, str(exc), exc)
        return ValidationOutcome(item.id, item.name, result.success, result.message)

    tasks = [asyncio.create_task(check(item)) for item in targets]
    outcomes = []
    try:
        for task in tasks:
            outcome = await task
            on_result(outcome)
            outcomes.append(outcome)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return outcomes


def _validation_exit_code(outcomes: Sequence[ValidationOutcome]) -> int:
    """0 all valid; else the first API error's own code; else 6 (some invalid)."""
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:
        return int(exit_code_for(errors[0]))
    if any(not o.success for o in outcomes):
        return ExitCode.VALIDATION_FAILED
    return ExitCode.OK


@llm.command("validate")
@click.argument("llm_ids", metavar="[ID]...", nargs=-1, type=CONFIG_ID)
@click.option("--all", "all_", is_flag=True, help="Validate every configuration you can see.")
@click.option("--workspace", metavar="NAME_OR_ID", help="With --all: only this workspace.")
@click.option("--concurrency", type=click.IntRange(1, 64), metavar="N",
              help="How many validations run at once (default: the profile's, 8).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def validate(ctx: click.Context, llm_ids: tuple[str, ...], all_: bool, workspace: str | None,
             concurrency: int | None, as_json: bool) -> None:
    """Check configurations against their providers; a line per configuration.

    Exits 6 when any configuration is invalid.
    """
    if all_ == bool(llm_ids):
        raise click.UsageError("give configuration ids or --all (not both)")
    if workspace and not all_:
        raise click.UsageError("--workspace goes with --all")
    wanted = list(dict.fromkeys(llm_ids))

    async def body(session: Session) -> list[ValidationOutcome]:
        client = session.client
        workspace_id = (await resolve_workspace(client, workspace)).id if workspace else None
        known = (await client.get_ai_llms(workspace_id)).ai_llms
        if all_:
            targets = list(known)
        else:
            by_id = {item.id: item for item in known}
            missing = [llm_id for llm_id in wanted if llm_id not in by_id]
            if missing:
                raise not_found("configuration", missing)
            targets = [by_id[llm_id] for llm_id in wanted]
        if not targets:
            click.echo("No configurations to validate.", err=True)
            return []
        width = max(output.display_width(output.clean(item.name)) for item in targets)

        def report(outcome: ValidationOutcome) -> None:
            if not as_json:
                name = output.clean(outcome.name)
                pad = " " * (width - output.display_width(name))
                click.echo(f"{outcome.status:<7}  {outcome.llm_id}  {name}{pad}  "
                           f"{output.clean(outcome.message)}".rstrip())

        limit = concurrency or session.profile.validation_concurrency
        return await validate_all(client, targets, limit, report)

    outcomes = run_with_session(ctx, body)
    if as_json:
        output.echo_json([outcome.to_json() for outcome in outcomes])
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("VALID", "INVALID", "ERROR")}
    if outcomes:
        click.echo(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n), err=True)
    ctx.exit(_validation_exit_code(outcomes))


# ---------------------------------------------------------------------------------------------
# stats
# ---------------------------------------------------------------------------------------------

STATS_COLUMNS: list[tuple[str, str]] = [
    ("CALLS", "total_api_calls"),
    ("TOKENS IN", "total_tokens_in"),
    ("TOKENS OUT", "total_tokens_out"),
    ("LLM IN", "total_llm_tokens_in"),
    ("LLM OUT", "total_llm_tokens_out"),
    ("VIOLATIONS", "total_policy_violations"),
    ("ALERTS", "total_alerts"),
    ("BLOCKS", "total_blocks"),
]


@llm.command("stats")
@click.argument("llm_id", metavar="[ID]", required=False, type=CONFIG_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def stats(ctx: click.Context, llm_id: str | None, as_json: bool) -> None:
    """Usage totals per configuration (all you can see, or just ID)."""

    async def body(session: Session) -> None:
        client = session.client
        answer, listed = await asyncio.gather(client.get_ai_llm_stats(llm_id),
                                              client.get_ai_llms())
        rows = answer.stats
        if llm_id and not rows:
            raise not_found("configuration", [llm_id])
        if as_json:
            output.echo_json([row.model_dump(mode="json", by_alias=True) for row in rows])
            return
        names = {item.id: item.name for item in listed.ai_llms}
        output.echo_table(
            ["ID", "NAME", *(label for label, _ in STATS_COLUMNS)],
            [[row.ai_llm_id, names.get(row.ai_llm_id),
              *(output.format_count(getattr(row, field)) for _, field in STATS_COLUMNS)]
             for row in rows],
            right=range(2, 2 + len(STATS_COLUMNS)),
            empty="No configurations, so no usage yet.",
        )

    run_with_session(ctx, body)
