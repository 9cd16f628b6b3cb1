"""``flashback-tui events``: the audit trail (who changed what, and when).

``events`` lists changes newest first with the filters of ``POST /systemevent``;
``events read ID...`` and ``events unread ID...`` mark them. No event holds a secret.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from flashback_tui.commands import output
from flashback_tui.commands.common import SecretSafeGroup, connection_options, run_with_session
from flashback_tui.commands.lookup import resolve_workspace
from flashback_tui.commands.params import EVENT_ID, TIME, TIME_UNTIL

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import SystemEvent
    from flashback_tui.connect import Session

#: Rows per request: the platform's maximum page.
PAGE = 100
CONTEXTS = ("workspace", "bucket", "repo", "user", "org", "workspaceuser", "apikey",
            "usersettings", "orgsettings", "flashbacknode", "orgkey", "aillm", "aillmapikey",
            "conversation")
KINDS = ("created", "updated", "deleted")


def changed_fields(event: SystemEvent) -> str:
    """The ``changed`` list of an event's ``jsonData``, comma-joined (``-`` if none)."""
    try:
        data = json.loads(event.json_data or "null")
    except ValueError:
        return output.EMPTY
    changed = data.get("changed") if isinstance(data, dict) else None
    return ", ".join(map(str, changed)) if isinstance(changed, list) and changed else output.EMPTY


async def _user_id(client: FlashbackClient, wanted: str) -> str:
    """A user id for ``--user``: an e-mail of someone in a visible workspace, or the id."""
    for workspace in (await client.get_workspaces()).workspaces:
        for membership in workspace.users:
            if membership.user and membership.user.email.casefold() == wanted.casefold():
                return membership.user_id
    return wanted


async def _query(client: FlashbackClient, options: dict[str, Any]) -> dict[str, Any]:
    workspace, user = options.get("workspace"), options.get("user")
    return {
        "from_timestamp": options.get("since"), "to_timestamp": options.get("until"),
        "context": CONTEXTS.index(options["context"]) if options.get("context") else None,
        "event": KINDS.index(options["event"]) if options.get("event") else None,
        "contextId": options.get("context_id"),
        "userId": await _user_id(client, user) if user else None,
        "workspaceId": (await resolve_workspace(client, workspace)).id if workspace else None,
        "showUnread": True if options.get("unread") else None,
    }


async def fetch_events(client: FlashbackClient, options: dict[str, Any], limit: int
                       ) -> tuple[list[SystemEvent], int]:
    """Events up to ``limit``, newest first, over as many pages as needed; and the total."""
    from flashback_tui.api.models import SystemEventQuery

    filters = {k: v for k, v in (await _query(client, options)).items() if v is not None}
    rows: list[SystemEvent] = []
    total = 0
    while len(rows) < limit:
        take = min(PAGE, limit - len(rows))
        page = await client.get_system_events(
            SystemEventQuery.model_validate({"skip": len(rows), "take": take, **filters}))
        rows.extend(page.events[:take])
        total = page.total
        if not page.events or len(rows) >= total:
            break
    return rows, total


def _print(rows: list[SystemEvent], total: int, as_json: bool) -> None:
    if as_json:
        output.echo_json([output.wire(row) for row in rows])
    elif rows:
        output.echo_table(
            ["ID", "TIME", "CONTEXT", "EVENT", "USER", "THING", "CHANGED", "UNREAD"],
            [[e.id, e.timestamp, e.context, e.event, e.user_email or e.user_id, e.context_id,
              changed_fields(e), "*" if e.show_unread else ""] for e in rows], right=[0])
    if not rows:
        click.echo("No events match.", err=True)
    elif len(rows) < total:
        click.echo(f"{len(rows)} of {total} events shown (newest first); raise --limit for "
                   "more.", err=True)


@click.group(cls=SecretSafeGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--context", type=click.Choice(CONTEXTS), help="Only changes to this kind of thing.")
@click.option("--event", type=click.Choice(KINDS), help="Only this kind of change.")
@click.option("--context-id", metavar="ID", help="Only changes to the thing with this id.")
@click.option("--user", metavar="EMAIL_OR_ID", help="Only changes made by this user.")
@click.option("--workspace", metavar="NAME_OR_ID", help="Only changes in this workspace.")
@click.option("--since", type=TIME, help="Not before (ISO 8601, or an age: 30m, 2h, 7d).")
@click.option("--until", type=TIME_UNTIL,
              help="Not after (ISO 8601, or an age; a date includes its day).")
@click.option("--unread", is_flag=True, help="Only events you have not marked read.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True,
              help="At most this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@connection_options
@click.pass_context
def events(ctx: click.Context, limit: int, as_json: bool, **options: Any) -> None:
    """The audit trail: every change, newest first (see also `events read`/`unread`)."""
    if ctx.invoked_subcommand is not None:
        return

    async def body(session: Session) -> tuple[list[SystemEvent], int]:
        return await fetch_events(session.client, options, limit)

    _print(*run_with_session(ctx, body), as_json)


def _mark(ctx: click.Context, ids: tuple[int, ...], *, read: bool) -> None:
    async def body(session: Session) -> None:
        client = session.client
        mark = client.mark_system_event_as_read if read else client.mark_system_event_as_unread
        await mark(list(ids))

    run_with_session(ctx, body)
    click.echo(f"Marked {len(ids)} event(s) {'read' if read else 'unread'}.", err=True)


@events.command("read")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=EVENT_ID)
@connection_options
@click.pass_context
def read(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Mark events read."""
    _mark(ctx, ids, read=True)


@events.command("unread")
@click.argument("ids", metavar="ID...", nargs=-1, required=True, type=EVENT_ID)
@connection_options
@click.pass_context
def unread(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Mark events unread."""
    _mark(ctx, ids, read=False)
