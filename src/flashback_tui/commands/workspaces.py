"""``flashback-tui workspaces``: the workspaces you belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import SecretSafeCommand, connection_options, run_with_session

if TYPE_CHECKING:
    from flashback_tui.connect import Session


@click.command(cls=SecretSafeCommand)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def workspaces(ctx: click.Context, as_json: bool) -> None:
    """List the workspaces you belong to."""

    async def body(session: Session) -> None:
        listed = (await session.client.get_workspaces()).workspaces
        if as_json:
            output.echo_json([output.wire(w) for w in listed])
            return
        output.echo_table(
            ["ID", "NAME", "MEMBERS"],
            [[w.id, w.name, len(w.users)] for w in listed],
            right=[2],
            empty="You belong to no workspace. An admin of one can add you "
                  "(flashback-tui member add, or on the local platform: "
                  "flashback-tui admin member add).",
        )

    run_with_session(ctx, body)
