"""``policy validate`` and ``policy recommend``, and how policy content is read.

Content comes from ``--content TEXT``, ``--content-file PATH`` or ``--content-file -``
(stdin); ``create`` also reads stdin when neither is given. ``validate`` exits 6 when a
content gets a medium or high severity.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    ExitCode,
    SecretSafeCommand,
    build_model,
    connection_options,
    run_with_session,
    stdin_is_terminal,
)
from flashback_tui.commands.lookup import org_id_of, resolve_policy, scope_ids
from flashback_tui.commands.params import REF

if TYPE_CHECKING:
    from flashback_tui.api.models import PolicyValidationResult
    from flashback_tui.connect import Session

#: The most content read from a file or stdin (the platform's limit, and some slack).
CONTENT_LIMIT = 16384
#: Validation severities that fail ``policy validate`` (exit 6).
FAILING = ("medium", "high")


def content_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--content TEXT`` and ``--content-file PATH`` (``-`` for stdin)."""
    command = click.option("--content-file", metavar="PATH",
                           help="Read the content from a file ('-' for standard input).")(command)
    return click.option("--content", metavar="TEXT",
                        help="The policy text: keywords separated by commas, or re:REGEX.")(command)


def read_content(content: str | None, content_file: str | None, *, required: bool) -> str | None:
    """The content the options give; with ``required``, stdin when neither option is."""
    if content is not None and content_file is not None:
        raise click.UsageError("use either --content or --content-file, not both")
    if content is not None:
        return content
    if content_file is None and required and not stdin_is_terminal():
        content_file = "-"
    if content_file is None:
        if required:
            raise click.UsageError("give the content with --content, --content-file or stdin")
        return None
    text = _read_text(content_file)
    if not text.strip():
        raise click.UsageError(f"--content-file {content_file}: it is empty")
    return text.strip()


def _read_text(path: str) -> str:
    try:
        text = (sys.stdin.read(CONTENT_LIMIT + 1) if path == "-"
                else Path(path).read_text(encoding="utf-8")[: CONTENT_LIMIT + 1])
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"--content-file {path}: cannot read it ({exc.__class__.__name__})"
                               ) from None
    if len(text) > CONTENT_LIMIT:
        raise click.UsageError(f"--content-file {path}: longer than {CONTENT_LIMIT} characters")
    return text


def _print_results(results: list[PolicyValidationResult], names: dict[str, str]) -> None:
    output.echo_table(
        ["POLICY", "SCORE", "SEVERITY", "ADVICE"],
        [[names.get(r.policy_uuid, r.policy_uuid), f"{r.score:g}", r.severity, r.advice]
         for r in results], right=[1])
    for result in results:
        for issue in result.issues:
            click.echo(f"  {names.get(result.policy_uuid, result.policy_uuid)}: {issue.type}: "
                       f"{output.clean(issue.description)} ({output.clean(issue.suggestion)})")


@click.command("validate", cls=SecretSafeCommand)
@click.argument("refs", metavar="[POLICY]...", nargs=-1, type=REF)
@content_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def validate(ctx: click.Context, refs: tuple[str, ...], content: str | None,
             content_file: str | None, as_json: bool) -> None:
    """Lint policies (by id or name) or a content; exit 6 on a medium or high severity."""
    from flashback_tui.api.models import PolicyValidationRequest

    text = read_content(content, content_file, required=not refs)

    async def body(session: Session) -> tuple[list[PolicyValidationResult], dict[str, str]]:
        items = [await resolve_policy(session.client, ref) for ref in refs]
        entries = [{"policy_uuid": p.id, "content": p.content} for p in items]
        if text is not None:
            entries.append({"policy_uuid": "content", "content": text})
        request = build_model(PolicyValidationRequest, policies=entries)
        answer = await session.client.validate_policies(request)
        return list(answer.results), {p.id: p.name for p in items}

    results, names = run_with_session(ctx, body)
    if as_json:
        output.echo_json([output.wire(r) for r in results])
    else:
        _print_results(results, names)
    if any(str(r.severity) in FAILING for r in results):
        ctx.exit(ExitCode.VALIDATION_FAILED)


@click.command("recommend", cls=SecretSafeCommand)
@click.argument("prompt", nargs=-1, required=True)
@click.option("--workspace", metavar="NAME_OR_ID", help="Recommend for this workspace.")
@click.option("--repo", "repo_ref", metavar="REPO", help="Recommend for this repository.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def recommend(ctx: click.Context, prompt: tuple[str, ...], workspace: str | None,
              repo_ref: str | None, as_json: bool) -> None:
    """Policies suggested for a use case in words (e.g. "support bot with card payments")."""
    from flashback_tui.api.models import PolicyRecommendationRequest

    words = " ".join(prompt).strip()

    async def body(session: Session) -> Any:
        client = session.client
        workspace_id, repo_id = await scope_ids(client, workspace, repo_ref)
        level, uuid = ((2, repo_id) if repo_id else (1, workspace_id) if workspace_id
                       else (0, await org_id_of(client)))
        request = build_model(PolicyRecommendationRequest, level=level, uuid=uuid,
                              prompt=words)
        return await client.recommend_policies(request)

    answer = run_with_session(ctx, body)
    if as_json:
        output.echo_json(output.wire(answer))
        return
    output.echo_table(
        ["RISK", "ACTION", "CONTENT"],
        [[r.risk_type, r.alert_type, r.content] for r in answer.recommended_policies],
        empty="No recommendation for these words; describe the use case differently.")
