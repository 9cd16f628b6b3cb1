"""``llm validate`` and ``llm stats``: checking configurations and their usage totals.

``validate`` runs at most ``--concurrency`` validations at once and prints each line as soon
as it and the ones before it are done; exit 6 when any configuration is invalid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    ExitCode,
    SecretSafeCommand,
    connection_options,
    exit_code_for,
    run_with_session,
)
from flashback_tui.commands.lookup import (
    optional_workspace_id,
    pick_llms,
    resolve_llm,
    workspace_names,
)
from flashback_tui.commands.params import CONFIG_REF

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.errors import FlashbackError
    from flashback_tui.api.models import AiLlm
    from flashback_tui.connect import Session


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
                       on_result: Callable[[ValidationOutcome], None]
                       ) -> list[ValidationOutcome]:
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


def validation_exit_code(outcomes: Sequence[ValidationOutcome]) -> int:
    """0 all valid; else the first API error's own code; else 6 (some invalid)."""
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:
        return int(exit_code_for(errors[0]))
    if any(not o.success for o in outcomes):
        return ExitCode.VALIDATION_FAILED
    return ExitCode.OK


def _line_printer(targets: Sequence[AiLlm], quiet: bool) -> Callable[[ValidationOutcome], None]:
    """Prints one aligned line per outcome (nothing with --json)."""
    width = max(output.display_width(output.clean(item.name)) for item in targets)

    def report(outcome: ValidationOutcome) -> None:
        if quiet:
            return
        name = output.clean(outcome.name)
        pad = " " * (width - output.display_width(name))
        click.echo(f"{outcome.status:<7}  {outcome.llm_id}  {name}{pad}  "
                   f"{output.clean(outcome.message)}".rstrip())

    return report


@click.command("validate", cls=SecretSafeCommand)
@click.argument("refs", metavar="[CONFIG]...", nargs=-1, type=CONFIG_REF)
@click.option("--all", "all_", is_flag=True, help="Validate every configuration you can see.")
@click.option("--workspace", metavar="NAME_OR_ID",
              help="With --all: only this workspace; with names: look them up there.")
@click.option("--concurrency", type=click.IntRange(1, 64), metavar="N",
              help="How many validations run at once (default: the profile's, 8).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def validate(ctx: click.Context, refs: tuple[str, ...], all_: bool, workspace: str | None,
             concurrency: int | None, as_json: bool) -> None:
    """Check configurations (ids or names) against their providers; a line per configuration.

    Exits 6 when any configuration is invalid.
    """
    if all_ == bool(refs):
        raise click.UsageError("give configuration ids or names, or --all (not both)")

    async def body(session: Session) -> list[ValidationOutcome]:
        client = session.client
        workspace_id = await optional_workspace_id(client, workspace)
        known = (await client.get_ai_llms(workspace_id)).ai_llms
        targets = list(known) if all_ else pick_llms(known, list(refs),
                                                    await workspace_names(client))
        if not targets:
            click.echo("No configurations to validate.", err=True)
            return []
        limit = concurrency or session.profile.validation_concurrency
        return await validate_all(client, targets, limit, _line_printer(targets, as_json))

    outcomes = run_with_session(ctx, body)
    if as_json:
        output.echo_json([outcome.to_json() for outcome in outcomes])
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("VALID", "INVALID", "ERROR")}
    if outcomes:
        click.echo(", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n), err=True)
    ctx.exit(validation_exit_code(outcomes))


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


@click.command("stats", cls=SecretSafeCommand)
@click.argument("ref", metavar="[CONFIG]", required=False, type=CONFIG_REF)
@click.option("--workspace", metavar="NAME_OR_ID", help="Look the name up in this workspace.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def stats(ctx: click.Context, ref: str | None, workspace: str | None, as_json: bool) -> None:
    """Usage totals per configuration (all you can see, or just CONFIG)."""

    async def body(session: Session) -> None:
        client = session.client
        llm_id = (await resolve_llm(client, ref, workspace)).id if ref else None
        answer, listed = await asyncio.gather(client.get_ai_llm_stats(llm_id),
                                              client.get_ai_llms())
        rows = answer.stats
        if as_json:
            output.echo_json([output.wire(row) for row in rows])
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
