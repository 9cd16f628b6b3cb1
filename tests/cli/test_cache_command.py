"""``flashback-tui cache clear`` and the global ``--no-cache`` flag."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from flashback_tui.cli import main
from flashback_tui.snapshot import SnapshotKey, SnapshotRow, SnapshotStore

ROW = SnapshotRow("id", "name", "ws", "OPENAI", None, None, None, None, "UNKNOWN", "", None)


def test_cache_clear_removes_every_snapshot_and_says_how_many(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    store = SnapshotStore(cache / "snapshots")
    key = SnapshotKey("local", "embedded:/data", "admin@localhost")
    for workspace in ("a", "b", None):
        store.save(key.with_workspace(workspace), [ROW])
    env = {**os.environ, "FLASHBACK_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-m", "flashback_tui", "cache", "clear"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Removed 3 last-known lists from {cache / 'snapshots'}.\n"
    assert store.load(key.with_workspace("a")) is None
    assert stat.S_IMODE((cache / "snapshots").stat().st_mode) == 0o700  # the directory stays


def test_cache_clear_with_nothing_kept(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cache", "clear"],
                                env={"FLASHBACK_CACHE_DIR": str(tmp_path / "none")})
    assert result.exit_code == 0
    assert result.output.startswith("Removed 0 last-known lists from ")


def test_no_cache_is_a_global_option_handed_to_commands(tmp_path: Path) -> None:
    seen = {}

    @main.command("probe-options", hidden=True)
    def probe() -> None:
        import click

        seen.update(click.get_current_context().find_object(dict))

    try:
        for args, env, expected in ((["--no-cache"], {}, True), ([], {}, False),
                                    ([], {"FLASHBACK_NO_CACHE": "1"}, True)):
            result = CliRunner().invoke(main, [*args, "probe-options"], env=env)
            assert result.exit_code == 0, result.output
            assert seen["no_cache"] is expected
    finally:
        main.commands.pop("probe-options", None)
    assert "--no-cache" in CliRunner().invoke(main, ["--help"]).output
