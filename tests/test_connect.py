"""open_session: the embedded local platform, a URL with FLASHBACK_TOKEN, a saved profile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from pydantic import SecretStr

from flashback_tui.connect import NoCredentialError, open_session, resolve_profile
from flashback_tui.credentials import StoredCredential, save_credential
from flashback_tui.settings import Profile, SettingsError, save_profile
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


async def test_the_local_profile_starts_the_embedded_platform(tmp_path: Path) -> None:
    loop_ticks = 0
    stop = asyncio.Event()

    async def tick() -> None:  # proves the event loop keeps running while the server starts
        nonlocal loop_ticks
        while not stop.is_set():
            loop_ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    async with open_session(data_dir=tmp_path / "data") as session:
        stop.set()
        await ticker
        assert loop_ticks > 5
        assert session.profile.name == "local" and session.local_server is not None
        assert session.credential_source == "embedded local admin"
        assert session.url.startswith("http://127.0.0.1:")
        workspaces = await session.client.get_workspaces()
        assert [w.name for w in workspaces.workspaces] == ["Default"]
        port = session.local_server.port
        _, writer = await asyncio.open_connection("127.0.0.1", port)  # listening while open
        writer.close()
        await writer.wait_closed()
    with pytest.raises(OSError):  # stopped when it closes
        await asyncio.open_connection("127.0.0.1", port)


async def test_url_and_token_work_without_a_settings_file(
    platform, world, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.setenv("FLASHBACK_URL", platform.url)
    monkeypatch.setenv("FLASHBACK_TOKEN", world.tokens["READ"])
    async with open_session() as session:
        assert session.credential_source == "environment (FLASHBACK_TOKEN)"
        assert session.local_server is None and session.url == platform.url
        names = [w.name for w in (await session.client.get_workspaces()).workspaces]
        assert world.workspace_name in names
    assert not await asyncio.to_thread(isolated.exists)


async def test_a_saved_profile_uses_its_stored_credential(
    platform, world, memory_keyring: MemoryKeyring
) -> None:
    profile = Profile(name="work", url=platform.url, color="red")
    save_profile(profile)
    save_credential(profile, StoredCredential(SecretStr(world.tokens["WRITE"]), url=platform.url),
                    insecure_storage=False)
    async with open_session(profile="work") as session:
        assert session.profile.color == "red"
        assert session.credential_source == "keyring (MemoryKeyring)"
        await session.client.get_workspaces()
    # The URL alone finds the same profile.
    async with open_session(url=platform.url + "/") as session:
        assert session.profile.name == "work"


async def test_a_remote_profile_without_a_credential_raises(platform) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        save_profile(Profile(name="work", url=platform.url))
        with pytest.raises(NoCredentialError) as caught:
            async with open_session(profile="work"):
                pass
    finally:
        keyring.set_keyring(previous)
    assert "flashback-tui login --profile work" in str(caught.value)
    assert "fail.Keyring" in str(caught.value)


def test_credential_lookup_runs_off_the_calling_thread(platform, world) -> None:
    seen: list[str] = []

    class Spy(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            seen.append(threading.current_thread().name)
            return super().get_password(service, username)

    previous = keyring.get_keyring()
    keyring.set_keyring(Spy())
    try:
        save_profile(Profile(name="work", url=platform.url))

        async def attempt() -> None:
            async with open_session(profile="work"):
                pass

        with pytest.raises(NoCredentialError):
            asyncio.run(attempt())
    finally:
        keyring.set_keyring(previous)
    assert seen and threading.current_thread().name not in seen


def test_profile_resolution_errors(isolated: Path) -> None:
    with pytest.raises(SettingsError, match="unknown profile 'nope'"):
        resolve_profile("nope")
    adhoc = resolve_profile(None, "https://backend.example.test:8443/")
    assert adhoc.name == "backend.example.test-8443"
    assert adhoc.url == "https://backend.example.test:8443"


async def test_sign_in_then_a_session_with_the_credential_in_memory(
    platform, world, isolated: Path
) -> None:
    from flashback_tui.connect import sign_in
    from flashback_tui.credentials import FileStore, keep_credential
    from flashback_tui.server import admin

    email = "memory-user@example.test"
    await asyncio.to_thread(admin.add_user, platform.data_dir, email, "pw-memory-1")
    await asyncio.to_thread(admin.add_member, platform.data_dir, world.workspace_id, email,
                            "READ")
    profile = Profile(name="work", url=platform.url)
    credential = await sign_in(platform.url, email, SecretStr("pw-memory-1"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        resolved, notes = await asyncio.to_thread(
            keep_credential, profile, credential, insecure_storage=False)
    finally:
        keyring.set_keyring(previous)
    assert resolved.where == "memory (this session only)" and resolved.store is None
    assert any("fail.Keyring" in note for note in notes)
    assert not await asyncio.to_thread(FileStore().path(profile).exists)
    async with open_session(profile=profile, credential=resolved) as session:
        assert session.credential_source == "memory (this session only)"
        names = [w.name for w in (await session.client.get_workspaces()).workspaces]
        assert names == [world.workspace_name]


async def test_an_early_spawned_platform_is_adopted_by_a_local_session(tmp_path: Path) -> None:
    from flashback_tui.server.runner import LocalServer

    early = LocalServer(tmp_path / "data")
    early.spawn()
    async with open_session(data_dir=tmp_path / "data", local_server=early) as session:
        assert session.local_server is early
        workspaces = await session.client.get_workspaces()
        assert [w.name for w in workspaces.workspaces] == ["Default"]
    assert not early.running


async def test_an_early_spawned_platform_is_stopped_when_the_profile_is_remote(
    platform, world, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flashback_tui.server.runner import LocalServer

    monkeypatch.setenv("FLASHBACK_TOKEN", world.tokens["READ"])
    early = LocalServer(tmp_path / "data")
    early.spawn()
    async with open_session(url=platform.url, local_server=early) as session:
        assert session.local_server is None and session.url == platform.url
        assert not early.running


def test_the_tui_guesses_a_local_session_from_the_settings_file(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flashback_tui.tui.launch import _local_platform_expected

    monkeypatch.delenv("FLASHBACK_URL", raising=False)
    monkeypatch.delenv("FLASHBACK_PROFILE", raising=False)
    assert _local_platform_expected(None, None)  # no settings file: the local profile
    assert not _local_platform_expected("https://backend.example.test", None)
    save_profile(Profile(name="work", url="https://backend.example.test"), make_default=True)
    assert not _local_platform_expected(None, None)
    assert _local_platform_expected(None, "local")
    monkeypatch.setenv("FLASHBACK_PROFILE", "local")
    assert _local_platform_expected(None, None)
