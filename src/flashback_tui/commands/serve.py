"""``flashback-tui serve``: run the local Flashback platform."""

from __future__ import annotations

import click

from flashback_tui.commands.database import chosen_url, database_errors, database_url_option


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Non-loopback addresses need --allow-remote.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0 picks a free one).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data directory [default: $FLASHBACK_DATA_DIR, else the user data dir].")
@database_url_option
@click.option("--allow-remote", is_flag=True,
              help="Allow listening on a non-loopback address (traffic is not encrypted).")
@click.option("--embedded", is_flag=True, hidden=True,
              help="Child mode for the TUI: JSON ready line on stdout, exit on stdin EOF.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, data_dir: str | None,
          database_url: str | None, allow_remote: bool, embedded: bool) -> None:
    """Run the local Flashback platform in the foreground.

    Its data lives in the data dir's SQLite file, or in the PostgreSQL database that
    --database-url or FLASHBACK_DATABASE_URL names (several replicas can serve one).
    """
    from flashback_tui.commands.common import CliError, ExitCode
    from flashback_tui.net import is_loopback
    from flashback_tui.paths import data_dir as resolve_data_dir
    from flashback_tui.server.config import SettingsProblem

    parent = (ctx.obj or {}).get("data_dir") if ctx.obj else None
    directory = resolve_data_dir(data_dir or parent)
    if not is_loopback(host):
        if not allow_remote:
            raise click.UsageError(
                f"{host} is not a loopback address; pass --allow-remote to listen on it"
            )
        click.echo(
            f"Warning: listening on {host}; traffic (tokens and secrets included) is NOT "
            "encrypted. Put a TLS proxy in front of it or use an SSH tunnel.",
            err=True,
        )
    url = chosen_url(database_url)
    try:
        with database_errors(url):
            if embedded:
                from flashback_tui.server.runner import run_embedded

                run_embedded(directory, host, port, database_url=url)
            else:
                from flashback_tui.server.runner import run_foreground

                run_foreground(directory, host, port, database_url=url)
    except SettingsProblem as exc:
        raise CliError(str(exc), exit_code=ExitCode.USAGE) from None
    except OSError as exc:
        if exc.filename:  # the data dir or the database file
            raise click.ClickException(f"cannot use {exc.filename}: {exc.strerror}") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
