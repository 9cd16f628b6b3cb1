"""``llm update`` and ``llm rotate``: changing a configuration, and its credentials.

A stored secret goes only where it was given (:mod:`flashback_tui.domain.origins`): an
update that moves the configuration to another origin, or to another provider type, must
carry the secret again. Without one, ``update`` says why and exits 2 before sending
anything; on a terminal it asks for the secret, hidden, instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSafeCommand,
    SecretSources,
    build_model,
    connection_options,
    read_credentials,
    require_writable,
    run_with_session,
    secret_options,
    stdin_is_terminal,
)
from flashback_tui.commands.lookup import resolve_llm
from flashback_tui.commands.params import AI_TYPE, CONFIG_REF

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.api.models import AiLlm, AiLlmUpdate, AiType
    from flashback_tui.connect import Session

#: Why a moved configuration needs its secret again (shown before exiting 2).
SECRET_AGAIN = ("a stored secret is only sent where it was given: give the secret again "
                "with --secret-stdin or --secret-env")


def _secret_for_move(item: AiLlm, change: dict[str, Any], secret: SecretStr | None
                     ) -> SecretStr | None:
    """The secret to send with ``change``: the given one, one asked for, or exit 2."""
    from flashback_tui.domain.origins import needs_secret_again

    new_type = change.get("aiType")
    if secret is not None or not needs_secret_again(
            item.endpoint, str(item.ai_type), change.get("endpoint"),
            str(new_type) if new_type is not None else None):
        return secret
    moved = "provider type" if new_type is not None and str(new_type) != str(item.ai_type) \
        else "endpoint's origin"
    if not stdin_is_terminal():
        raise CliError(f"the {moved} changes, and {SECRET_AGAIN}; nothing was sent",
                       exit_code=ExitCode.USAGE)
    click.echo(f"The {moved} changes: a stored secret is only sent where it was given. "
               "Give the secret for the new one.", err=True)
    from pydantic import SecretStr

    value = click.prompt("Secret", hide_input=True, err=True).strip()
    if not value:
        raise CliError(f"no secret given; {SECRET_AGAIN}", exit_code=ExitCode.USAGE)
    return SecretStr(value)


@click.command("update", cls=SecretSafeCommand)
@click.argument("ref", metavar="CONFIG", type=CONFIG_REF)
@click.option("--name", help="New name.")
@click.option("--type", "ai_type", type=AI_TYPE, help="New provider family.")
@click.option("--endpoint", metavar="URL", help="New provider API base URL.")
@click.option("--workspace", metavar="NAME_OR_ID", help="Look the name up in this workspace.")
@secret_options(with_key=False)
@connection_options
@click.pass_context
def update(ctx: click.Context, ref: str, name: str | None, ai_type: AiType | None,
           endpoint: str | None, workspace: str | None, secret_stdin: bool,
           secret_env: str | None) -> None:
    """Change a configuration's name, type or endpoint (`rotate` changes only credentials).

    Moving it to another origin (scheme, host, port) or provider type needs the secret
    again (--secret-stdin or --secret-env VAR): a stored secret is only sent where it was
    given. A reset to the provider's official endpoint does not.
    """
    from flashback_tui.api.models import AiLlmUpdate

    require_writable(ctx)
    fields = {k: v for k, v in {"name": name, "aiType": ai_type, "endpoint": endpoint}.items()
              if v is not None}
    if not fields:
        raise click.UsageError("nothing to update: pass --name, --type and/or --endpoint")
    build_model(AiLlmUpdate, **fields)  # every value checked before anything is read or sent
    _, secret = read_credentials(SecretSources(secret_stdin=secret_stdin,
                                               secret_env=secret_env), require_secret=False)

    async def body(session: Session) -> AiLlm:
        item = await resolve_llm(session.client, ref, workspace)
        given = _secret_for_move(item, fields, secret)
        change: AiLlmUpdate = build_model(
            AiLlmUpdate, **fields, **({"secret": given} if given is not None else {}))
        await session.client.update_ai_llm(item.id, change)
        return item

    item = run_with_session(ctx, body)
    click.echo(f"Updated {item.id} ({output.clean(name or item.name)}).", err=True)
    if ai_type is not None or endpoint is not None or secret is not None:
        click.echo(f"It needs validating again: flashback-tui llm validate {item.id}", err=True)


@click.command("rotate", cls=SecretSafeCommand)
@click.argument("ref", metavar="CONFIG", type=CONFIG_REF)
@click.option("--workspace", metavar="NAME_OR_ID", help="Look the name up in this workspace.")
@secret_options(with_key=True)
@click.option("--validate", "then_validate", is_flag=True,
              help="Validate right after rotating (exit 6 if the new secret fails).")
@connection_options
@click.pass_context
def rotate(ctx: click.Context, ref: str, workspace: str | None, key_stdin: bool,
           key_env: str | None, secret_stdin: bool, secret_env: str | None,
           then_validate: bool) -> None:
    """Replace a configuration's secret (and key) from stdin or the environment."""
    from flashback_tui.api.models import AiLlmUpdate

    require_writable(ctx)
    sources = SecretSources(key_stdin, key_env, secret_stdin, secret_env)
    key, secret = read_credentials(sources, require_secret=True)
    change = build_model(AiLlmUpdate, **{k: v for k, v in {"key": key, "secret": secret}.items()
                                         if v is not None})

    async def body(session: Session) -> tuple[str, bool | None, str]:
        item = await resolve_llm(session.client, ref, workspace)
        await session.client.update_ai_llm(item.id, change)
        if not then_validate:
            return item.id, None, ""
        result = await session.client.validate_ai_llm(item.id)
        return item.id, result.success, result.message

    rotated, valid, message = run_with_session(ctx, body)
    click.echo(f"Rotated the credentials of {rotated}.", err=True)
    if valid is None:
        click.echo(f"It needs validating again: flashback-tui llm validate {rotated}", err=True)
    elif valid:
        click.echo(f"VALID  {output.clean(message)}")
    else:
        click.echo(f"INVALID  {output.clean(message)}")
        ctx.exit(ExitCode.VALIDATION_FAILED)
