"""``flashback-tui cache``: the last-known lists kept in the user cache directory."""

from __future__ import annotations

import click


@click.group()
def cache() -> None:
    """Last-known lists shown at start-up and while the platform cannot be reached."""


@cache.command()
def clear() -> None:
    """Remove every last-known list."""
    from flashback_tui.paths import snapshot_dir
    from flashback_tui.snapshot import SnapshotStore

    directory = snapshot_dir()
    removed = SnapshotStore(directory).clear()
    noun = "list" if removed == 1 else "lists"
    click.echo(f"Removed {removed} last-known {noun} from {directory}.")
