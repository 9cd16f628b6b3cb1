"""The in-app sign-in screen against the real local platform: keyring, memory, opt-in file."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from textual.widgets import Checkbox, Input

from flashback_tui.credentials import KEYRING_SERVICE
from flashback_tui.server import admin
from flashback_tui.settings import Profile, load_settings
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.screens.sign_in import SignInScreen
from tests.support.keyrings import MemoryKeyring
from tests.tui.harness import SIZE, screen_text, wait_for


@pytest.fixture(autouse=True)
def isolated(isolated_config: Path) -> Path:
    return isolated_config


@pytest.fixture
def account(platform: Any, world: Any) -> tuple[str, str]:
    email = f"tui-{uuid.uuid4().hex[:8]}@example.test"
    password = f"pw-CANARY-{uuid.uuid4().hex[:6]}"
    admin.add_user(platform.data_dir, email, password)
    admin.add_member(platform.data_dir, world.workspace_id, email, "READ")
    return email, password


async def sign_in(pilot: Any, app: FlashbackApp, email: str, password: str,
                  *, tick: bool = False, seen: list[str] | None = None) -> list[Any]:
    """Open the screen, fill it in, submit; returns the list the result lands in.

    ``seen`` receives the screen's text just before it is submitted.
    """
    results: list[Any] = []
    profile = app.profile
    app.push_screen(SignInScreen(profile, "No credential yet."), results.append)
    screen = await wait_for(lambda: isinstance(app.screen, SignInScreen) and app.screen, pilot)
    await wait_for(lambda: screen.outlook is not None, pilot)
    screen.query_one("#sign-in-email", Input).value = email
    screen.query_one("#sign-in-password", Input).focus()
    await pilot.press(*password)
    assert password not in screen_text(app)  # never echoed
    if tick:
        screen.query_one("#sign-in-insecure", Checkbox).value = True
    if seen is not None:
        seen.append(screen_text(app))
    await pilot.press("enter")
    return results


def remote_app(url: str) -> FlashbackApp:
    return FlashbackApp(opener=None, profile=Profile(name="work", url=url))


async def test_sign_in_keeps_the_token_in_the_keyring(
    platform, account, use_keyring, isolated: Path
) -> None:
    backend = use_keyring(MemoryKeyring())
    app = remote_app(platform.url)
    async with app.run_test(size=SIZE) as pilot:
        results = await sign_in(pilot, app, *account)
        await wait_for(lambda: results, pilot)
    resolved = results[0]
    assert resolved.where == "keyring (MemoryKeyring)"
    document = json.loads(backend.values[(KEYRING_SERVICE, "work")])
    assert document["email"] == account[0] and document["refreshToken"]
    assert load_settings().get_profile("work").email == account[0]


async def test_without_a_keyring_the_token_stays_in_memory_by_default(
    platform, account, use_keyring, isolated: Path
) -> None:
    use_keyring(fail.Keyring())
    app = remote_app(platform.url)
    seen: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        results = await sign_in(pilot, app, *account, seen=seen)
        await wait_for(lambda: results, pilot)
    assert "No usable OS keyring" in seen[0] and "PLAINTEXT" in seen[0]
    assert results[0].where == "memory (this session only)" and results[0].store is None
    assert not (isolated / "credentials").exists()


async def test_without_a_keyring_the_file_is_used_only_when_ticked(
    platform, account, use_keyring, isolated: Path
) -> None:
    use_keyring(fail.Keyring())
    app = remote_app(platform.url)
    async with app.run_test(size=SIZE) as pilot:
        results = await sign_in(pilot, app, *account, tick=True)
        await wait_for(lambda: results, pilot)
    path = isolated / "credentials" / "work.json"
    assert results[0].where.startswith(f"file {path} (PLAINTEXT")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().get_profile("work").insecure_storage is True


async def test_a_wrong_password_keeps_the_screen_open(platform, account, use_keyring) -> None:
    use_keyring(MemoryKeyring())
    app = remote_app(platform.url)
    async with app.run_test(size=SIZE) as pilot:
        results = await sign_in(pilot, app, account[0], "wrong-pw")
        await wait_for(lambda: "Wrong e-mail or password" in screen_text(app), pilot)
        assert isinstance(app.screen, SignInScreen) and results == []
        await pilot.press("escape")
        await wait_for(lambda: results == [None], pilot)


def test_the_reason_drops_what_the_screen_already_says() -> None:
    from flashback_tui.credentials import NoCredentialError
    from flashback_tui.tui.screens.sign_in import concise_reason

    profile = Profile(name="work", url="https://w.test")
    bare = NoCredentialError(profile, ["no usable OS keyring (backend: fail.Keyring)"])
    assert concise_reason(str(bare)) == "No credential is stored for this profile yet."
    refused = NoCredentialError(profile, ["credentials file /x has mode 644: chmod 600 /x"])
    assert concise_reason(str(refused)) == "credentials file /x has mode 644: chmod 600 /x"
    assert concise_reason("401 invalid or expired token") == "401 invalid or expired token"


def test_a_lockout_is_shown_in_the_platforms_words() -> None:
    from flashback_tui.tui.screens.sign_in import wrong_sign_in_text

    assert wrong_sign_in_text("invalid email or password") == "Wrong e-mail or password."
    assert wrong_sign_in_text("too many failed sign-ins for this email from this address; "
                              "try again in 30 s") == (
        "Too many failed sign-ins for this email from this address; try again in 30 s.")
