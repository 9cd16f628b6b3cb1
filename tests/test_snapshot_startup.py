"""The first frame's side of snapshots: a light load path and the key guessed at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flashback_tui.snapshot import SnapshotKey, SnapshotRow, SnapshotStore
from flashback_tui.snapshot_identity import (
    LOCAL_ADMIN_EMAIL,
    embedded_address,
    startup_key,
    user_label,
)

#: Loads a snapshot the way the first frame does and reports what got imported.
_LOAD = """
import json, sys
from flashback_tui.snapshot import SnapshotStore
from flashback_tui.snapshot_identity import startup_key
key = startup_key(data_dir=sys.argv[2])
snapshot = SnapshotStore(sys.argv[1]).load_latest(key)
print(json.dumps({"rows": len(snapshot.rows), "modules": sorted(sys.modules)}))
"""


@pytest.fixture(autouse=True)
def isolated(isolated_config: Path) -> Path:
    return isolated_config


def write_settings(config: Path, text: str) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(text)


def test_loading_a_snapshot_imports_neither_pydantic_nor_the_ui(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = startup_key(data_dir=data_dir)
    assert key is not None
    row = SnapshotRow("id", "n", "w", "OPENAI", None, None, None, None, "UNKNOWN", "", None)
    SnapshotStore(tmp_path / "snaps").save(key.with_workspace("w"), [row] * 100)
    out = subprocess.run([sys.executable, "-c", _LOAD, str(tmp_path / "snaps"), str(data_dir)],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert result["rows"] == 100
    for heavy in ("pydantic", "textual", "httpx", "fastapi"):
        assert not any(m == heavy or m.startswith(heavy + ".") for m in result["modules"]), heavy


def test_the_embedded_platform_is_named_by_its_data_dir_and_local_admin(tmp_path: Path) -> None:
    key = startup_key(data_dir=tmp_path / "data")
    assert key == SnapshotKey("local", embedded_address(tmp_path / "data"), LOCAL_ADMIN_EMAIL)
    assert key.url == f"embedded:{tmp_path / 'data'}"


def test_a_saved_remote_profile_is_named_by_its_url_and_account(isolated: Path) -> None:
    write_settings(isolated, 'default_profile = "work"\n[profiles.work]\n'
                             'url = "https://backend.example.test/"\nemail = "Ops@Example.test"\n')
    expected = SnapshotKey("work", "https://backend.example.test", "ops@example.test")
    assert startup_key() == expected
    assert startup_key(url="https://backend.example.test") == expected  # found by its URL
    assert startup_key(profile="work", url="https://backend.example.test/") == expected


def test_unsure_guesses_give_no_key(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings(isolated, '[profiles.work]\nurl = "https://backend.example.test"\n'
                             'email = "ops@example.test"\n'
                             '[profiles.anon]\nurl = "https://anon.example.test"\n'
                             '[profiles.nocache]\nurl = "https://x.example.test"\n'
                             'email = "a@example.test"\ncache = false\n')
    assert startup_key(profile="work", no_cache=True) is None
    assert startup_key(profile="anon") is None  # no account known
    assert startup_key(profile="nocache") is None
    assert startup_key(profile="missing") is None
    assert startup_key(url="https://unsaved.example.test") is None
    assert startup_key(profile="work", url="https://elsewhere.example.test") is None
    monkeypatch.setenv("FLASHBACK_TOKEN", "whoever")
    assert startup_key(profile="work") is None  # the token may be anyone's


def test_a_broken_settings_file_gives_no_key(isolated: Path) -> None:
    write_settings(isolated, "this is [not toml")
    assert startup_key() is None


def test_users_are_labelled_by_email_else_id() -> None:
    assert user_label(email=" Ops@Example.test ") == "ops@example.test"
    assert user_label(email=None, user_id="u-1") == "id:u-1"
    assert user_label() is None
