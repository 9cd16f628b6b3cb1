"""``flashback-tui admin`` commands on a whole data dir: keys, backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from flashback_tui.commands.admin_common import data_dir_option, friendly_errors, resolve_data_dir


@click.command("rotate-key")
@click.option("--keep-old", type=click.IntRange(min=0), default=0, show_default=True,
              help="Old keys to keep after re-sealing (a grace period); the rest are removed.")
@data_dir_option
@friendly_errors
def rotate_key(keep_old: int, data_dir: str | None) -> None:
    """Seal every secret under a new master key, then remove the old keys.

    With FLASHBACK_MASTER_KEY set, list the new key first (NEW,OLD): everything is re-sealed
    under it, and you then drop OLD from the variable. Replicas of one database keep
    serving while this runs, once each of them lists NEW,OLD too (a rolling restart).
    """
    from flashback_tui.server import maintenance

    done = maintenance.rotate_key(resolve_data_dir(data_dir), keep_old=keep_old)
    click.echo(f"re-sealed {done.resealed} secret value(s) under key {done.new_kid}", err=True)
    if done.retired:
        click.echo(f"removed {len(done.retired)} old key(s): {', '.join(done.retired)}; "
                   "copies of older ciphertexts can no longer be opened", err=True)
    if done.kept:
        click.echo(f"kept {len(done.kept)} old key(s): {', '.join(done.kept)}", err=True)
    if done.unused_env:
        click.echo(f"the other key(s) of FLASHBACK_MASTER_KEY ({', '.join(done.unused_env)})"
                   " now seal nothing: drop them from it, on every replica", err=True)


@click.group("key")
def key_group() -> None:
    """Make and inspect master keys."""


@key_group.command("new")
def key_new() -> None:
    """Print a fresh random master key (base64 of 32 bytes) for FLASHBACK_MASTER_KEY.

    Give every replica of a platform the same one, and keep it apart from the database and
    its backups: whoever holds both can open every secret.
    """
    from flashback_tui.server.crypto import new_master_key

    click.echo(new_master_key())


@key_group.command("status")
@data_dir_option
@friendly_errors
def key_status(data_dir: str | None) -> None:
    """List the keys in use, their ids, where they come from and how many secrets each seals."""
    from flashback_tui.server import maintenance

    click.echo(f"{'KEY ID':<18}{'SOURCE':<8}{'SEALS':>7}  CURRENT")
    for status in maintenance.key_status(resolve_data_dir(data_dir)):
        mark = "yes" if status.info.current else ""
        click.echo(f"{status.info.kid:<18}{status.info.source:<8}{status.seals:>7}  {mark}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@data_dir_option
@friendly_errors
def backup(file: str, data_dir: str | None) -> None:
    """Write a consistent copy of the platform's database to FILE (online, never the key)."""
    from flashback_tui.server import maintenance

    size = maintenance.backup(resolve_data_dir(data_dir), Path(file))
    click.echo(f"backed up the database to {file} ({size:,} bytes); it holds sealed secrets "
               "but not the master key: keep the key apart from it", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@data_dir_option
@friendly_errors
def restore(file: str, data_dir: str | None) -> None:
    """Put the backup FILE back as the platform's database, after checking it opens."""
    from flashback_tui.server import maintenance

    opened = maintenance.restore(resolve_data_dir(data_dir), Path(file))
    click.echo(f"restored {file}: {opened} sealed value(s) open with the keys at hand",
               err=True)


#: The commands this module adds to ``flashback-tui admin``.
COMMANDS = (rotate_key, key_group, backup, restore)
