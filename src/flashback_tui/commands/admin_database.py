"""``flashback-tui admin`` commands on the database itself: ``migrate`` and ``copy``."""

from __future__ import annotations

from pathlib import Path

import click

from flashback_tui.commands.admin_common import data_dir_option, friendly_errors, resolve_data_dir
from flashback_tui.commands.database import (
    chosen_url,
    database_url_option,
    warn_of_argv_password,
)
from flashback_tui.server.crypto import MASTER_KEY_ENV


@click.command("migrate")
@database_url_option
@data_dir_option
@friendly_errors
def migrate(database_url: str | None, data_dir: str | None) -> None:
    """Bring the database's schema to this program's newest revision.

    The database is --database-url's (else FLASHBACK_DATABASE_URL's), or the SQLite file of
    --data-dir. Safe while replicas serve: the upgrade runs in one transaction under the
    write lock, and replicas starting meanwhile wait for it. It needs no master key and adds
    no rows.
    """
    from flashback_tui.server import maintenance
    from flashback_tui.server.db import db_path

    if database_url and data_dir:
        raise click.UsageError("give --database-url or --data-dir, not both")
    directory = resolve_data_dir(data_dir)
    # An explicit --data-dir means its SQLite file, even with FLASHBACK_DATABASE_URL set.
    url = f"sqlite:///{db_path(directory)}" if data_dir else chosen_url(database_url)
    done = maintenance.migrate(directory, database_url=url)
    if done.before == done.after:
        click.echo(f"already at {done.after}")
    else:
        click.echo(f"schema revision {done.before or '(empty)'} -> {done.after}")


@click.command("copy")
@click.option("--from", "source", required=True, metavar="URL",
              help="The platform to copy: sqlite:///path/to/flashback.db or postgresql://...")
@click.option("--to", "destination", required=True, metavar="URL",
              help="Where to copy it: an empty postgresql://... database or sqlite:/// file.")
@click.option("--from-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The source's key file [default: the master.key beside a sqlite:/// "
                   "source].")
@click.option("--from-key-env", default=MASTER_KEY_ENV, show_default=True, metavar="NAME",
              help="Variable holding the source's master key(s) (base64, comma-separated).")
@click.option("--to-key-env", default=MASTER_KEY_ENV, show_default=True, metavar="NAME",
              help="Variable holding the destination's master key (required for PostgreSQL;"
                   " for a sqlite:/// destination without it, the master.key beside the file).")
@friendly_errors
def copy(source: str, destination: str, from_key_file: str | None, from_key_env: str,
         to_key_env: str) -> None:
    """Copy a whole platform into an empty database, its secrets re-sealed.

    Every row moves with its ids, timestamps, usage, events and violations, in one
    transaction of the destination, read from one snapshot of the source (which may keep
    serving). Secrets are opened with the source's keys and sealed again under the
    destination's key when it is another one. The destination must be empty, or hold only
    what a first start creates (the org, workspace Default and admin@localhost), which is
    replaced. Row counts are checked per table and printed.

    Keep passwords out of the URLs (other users can read a command's arguments): libpq
    reads them from ~/.pgpass or PGPASSWORD.
    """
    from flashback_tui.server.copy_keys import KeySource
    from flashback_tui.server.platform_copy import copy_platform

    warn_of_argv_password(source, "--from")
    warn_of_argv_password(destination, "--to")
    report = copy_platform(
        source, destination,
        source_keys=KeySource(env_name=from_key_env or None,
                              key_file=Path(from_key_file) if from_key_file else None),
        destination_keys=KeySource(env_name=to_key_env or None))
    click.echo(f"copied {report.source} -> {report.destination}")
    if report.replaced_bootstrap:
        click.echo("(replaced the destination's first-start rows: org, workspace Default, "
                   "admin@localhost)")
    width = max(len(table) for table in report.rows)
    for table, count in report.rows.items():
        click.echo(f"  {table:<{width}}  {count:>9,}")
    if report.key_id is not None:
        click.echo(f"secrets: {report.resealed} re-sealed, {report.kept} kept as they were; all "
                   f"under key {report.key_id} from {report.key_source}")
