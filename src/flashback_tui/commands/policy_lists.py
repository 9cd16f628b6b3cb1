"""``flashback-tui violations`` and ``flashback-tui alerts``: what the policies caught.

Every filter of the API has an option; names are resolved (workspace, repository, policy).
``--limit`` pages through ``skip``/``take`` (at most 100 a page) up to that many rows,
newest first. ``--json`` prints the rows as the platform sends them; how many there are in
all is said on stderr.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import SecretSafeCommand, connection_options, run_with_session
from flashback_tui.commands.lookup import resolve_policy, resolve_repo, resolve_workspace
from flashback_tui.commands.params import RISK, TIME, TIME_UNTIL

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import ViolationFilters
    from flashback_tui.connect import Session

#: Rows per request: the platform's maximum page.
PAGE = 100


def filter_options(*, violations: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The filter options of the two lists (severity and blocked: violations only)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--workspace", metavar="NAME_OR_ID", help="Only this workspace."),
            click.option("--repo", "repo_ref", metavar="REPO", help="Only this repository."),
            click.option("--policy", "policy_ref", metavar="POLICY", help="Only this policy."),
            click.option("--from", "from_", type=TIME, help="Not before (ISO 8601, or 2h, 7d)."),
            click.option("--to", type=TIME_UNTIL,
                         help="Not after (ISO 8601, or an age; a date includes its day)."),
            click.option("--llm-type", multiple=True, metavar="TYPE",
                         help="Provider type, e.g. OPENAI (repeat for several)."),
            click.option("--model", multiple=True, metavar="MODEL", help="Model (repeatable)."),
            click.option("--host", multiple=True, metavar="HOST", help="Host (repeatable)."),
        ]
        if violations:
            options += [
                click.option("--severity", multiple=True, type=RISK,
                             help="low, medium or high (repeatable)."),
                click.option("--blocked", is_flag=True, help="Only requests that were blocked."),
            ]
        options += [
            click.option("--limit", type=click.IntRange(1, 100000), default=50,
                         show_default=True, help="At most this many rows (newest first)."),
            click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md)."),
        ]
        for option in reversed(options):
            command = option(command)
        return connection_options(command)

    return decorate


async def build_filters(client: FlashbackClient, options: dict[str, Any]) -> ViolationFilters:
    """The API filters of the command's options, names resolved to ids."""
    from flashback_tui.api.models import ViolationFilters

    workspace = options.get("workspace")
    workspace_id = (await resolve_workspace(client, workspace)).id if workspace else None
    repo_ref, policy_ref = options.get("repo_ref"), options.get("policy_ref")
    repo_id = (await resolve_repo(client, repo_ref, workspace_id)).id if repo_ref else None
    policy_id = (await resolve_policy(client, policy_ref)).id if policy_ref else None
    severity = [value.upper() for value in options.get("severity") or ()]
    return ViolationFilters(
        workspace_id=workspace_id, repo_id=repo_id, policy_id=policy_id,
        from_=options.get("from_"), to=options.get("to"),
        llm_type=list(options.get("llm_type") or ()) or None,
        llm_model=list(options.get("model") or ()) or None,
        host=list(options.get("host") or ()) or None,
        severity=severity or None, block=True if options.get("blocked") else None)


async def collect(fetch: Callable[[ViolationFilters], Awaitable[Any]], filters: ViolationFilters,
                  field: str, limit: int) -> tuple[list[Any], int]:
    """Rows up to ``limit`` over as many pages as it takes, and the total the platform gave."""
    rows: list[Any] = []
    total = 0
    while len(rows) < limit:
        take = min(PAGE, limit - len(rows))
        page = await fetch(filters.model_copy(update={"skip": len(rows), "take": take}))
        batch, total = getattr(page, field), page.total
        rows.extend(batch[:take])
        if not batch or len(rows) >= total:
            break
    return rows, total


def _report(rows: Sequence[Any], total: int, kind: str, as_json: bool,
            table: Callable[[Sequence[Any]], None]) -> None:
    if as_json:
        output.echo_json([output.wire(row) for row in rows])
    elif rows:
        table(rows)
    if not rows:
        click.echo(f"No {kind} match.", err=True)
    elif len(rows) < total:
        click.echo(f"{len(rows)} of {total} {kind} shown (newest first); raise --limit for "
                   "more.", err=True)
    else:
        click.echo(f"{total} {kind}.", err=True)


def _when(row: Any) -> str:
    return str(output.wire(row).get("timestamp", ""))


@click.command(cls=SecretSafeCommand)
@filter_options(violations=True)
@click.pass_context
def violations(ctx: click.Context, limit: int, as_json: bool, **options: Any) -> None:
    """Requests that matched a policy, newest first (never the prompt itself)."""

    async def body(session: Session) -> tuple[list[Any], int]:
        filters = await build_filters(session.client, options)
        return await collect(session.client.get_policy_violations, filters, "violations", limit)

    rows, total = run_with_session(ctx, body)
    _report(rows, total, "violations", as_json, lambda items: output.echo_table(
        ["TIME", "SEVERITY", "BLOCKED", "POLICY", "REPO", "KEY", "MODEL", "HOST", "WHY"],
        [[_when(v), v.severity, "yes" if v.block else "no", v.policy_name, v.repo_name,
          v.repo_ai_api_key_name, v.llm_model, v.host, v.explanation] for v in items]))


@click.command(cls=SecretSafeCommand)
@filter_options(violations=False)
@click.pass_context
def alerts(ctx: click.Context, limit: int, as_json: bool, **options: Any) -> None:
    """Alerts raised by policies with action alert or block, newest first."""

    async def body(session: Session) -> tuple[list[Any], int]:
        filters = await build_filters(session.client, options)
        return await collect(session.client.get_policy_alerts, filters, "alerts", limit)

    rows, total = run_with_session(ctx, body)
    _report(rows, total, "alerts", as_json, lambda items: output.echo_table(
        ["TIME", "POLICY", "REPO", "KEY", "MODEL", "HOST", "MESSAGE"],
        [[_when(a), a.policy_name, a.repo_name, a.repo_ai_api_key_name, a.llm_model, a.host,
          a.message] for a in items]))
