"""What a session says about last-known lists: whether they are on, and whose list it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pydantic import SecretStr

from flashback_tui.connect import cache_enabled, open_session, snapshot_key
from flashback_tui.credentials import StoredCredential, save_credential
from flashback_tui.settings import Profile, load_settings, save_profile
from flashback_tui.snapshot import SnapshotKey
from flashback_tui.snapshot_identity import embedded_address, startup_key
from tests.support.keyrings import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated(isolated_config: Path) -> Path:
    return isolated_config


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_profile_option_and_the_flag_turn_caching_off() -> None:
    assert cache_enabled(Profile(name="p"))
    assert not cache_enabled(Profile(name="p"), no_cache=True)
    assert not cache_enabled(Profile(name="p", cache=False))


def test_cache_false_is_read_from_the_settings_file(isolated: Path) -> None:
    save_profile(Profile(name="quiet", url="https://quiet.example.test", cache=False))
    assert "cache = false" in (isolated / "settings.toml").read_text()
    assert load_settings().get_profile("quiet").cache is False


async def test_a_local_session_names_the_key_the_first_frame_guessed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with open_session(data_dir=data_dir) as session:
        assert session.cache_enabled and session.account == "admin@localhost"
        key = snapshot_key(session, "ws-1")
        assert key == SnapshotKey("local", embedded_address(data_dir), "admin@localhost", "ws-1")
        assert key.with_workspace(None) == startup_key(data_dir=data_dir)
    async with open_session(data_dir=data_dir, no_cache=True) as session:
        assert not session.cache_enabled and snapshot_key(session, "ws-1") is None


async def test_a_remote_session_is_keyed_by_its_url_and_account(
    platform, world, memory_keyring: MemoryKeyring
) -> None:
    email = world.emails["WRITE"]
    profile = Profile(name="work", url=platform.url, email=email)
    save_profile(profile)
    save_credential(profile, StoredCredential(SecretStr(world.tokens["WRITE"]), email=email,
                                              url=platform.url), insecure_storage=False)
    async with open_session(profile="work") as session:
        assert session.account == email
        key = snapshot_key(session, None)
        assert key == SnapshotKey("work", platform.url, email.lower(), None)
        assert key == startup_key(profile="work")
        session.replace_token(world.tokens["READ"])  # the same client, another token
        assert session.client.token.get_secret_value() == world.tokens["READ"]


async def test_an_anonymous_token_is_keyed_by_the_user_id_once_known(
    platform, world, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHBACK_TOKEN", world.tokens["READ"])
    async with open_session(url=platform.url) as session:
        assert session.account is None
        assert snapshot_key(session, "ws") is None  # not yet known who this is
        key = snapshot_key(session, "ws", user_id=world.user_ids["READ"])
        assert key is not None and key.user == f"id:{world.user_ids['READ']}"
