"""The app offers the sign-in screen when a remote profile has no credential, then opens
the session with the credential it obtained (real local platform, in-memory keyring).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import keyring
import pytest
from textual.widgets import Input

from flashback_tui.connect import open_session
from flashback_tui.server import admin
from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.sign_in import SignInScreen
from tests.support.keyrings import MemoryKeyring
from tests.tui.harness import SIZE, screen_text, wait_for


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FLASHBACK_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("FLASHBACK_TOKEN", "FLASHBACK_URL", "FLASHBACK_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


async def test_no_credential_leads_to_sign_in_then_the_list(platform, world) -> None:
    email, password = f"ui-{uuid.uuid4().hex[:8]}@example.test", "pw-" + uuid.uuid4().hex
    admin.add_user(platform.data_dir, email, password)
    admin.add_member(platform.data_dir, world.workspace_id, email, "WRITE")
    start = Profile(name="work", url=platform.url)

    def opener(*, profile=None, credential=None):
        return open_session(profile=profile or start, credential=credential)

    app = FlashbackApp(opener=opener, profile=start)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, SignInScreen) and app.screen,
                                pilot)
        await wait_for(lambda: screen.outlook is not None, pilot)
        screen.query_one("#sign-in-email", Input).value = email
        screen.query_one("#sign-in-password", Input).value = password
        screen.query_one("#sign-in-password", Input).focus()
        await pilot.press("enter")
        listing = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                 and app.screen.loaded and app.screen, pilot, within=15)
        text = screen_text(app)
        assert f"Workspace: {world.workspace_name}" in text
        assert "Role: WRITE" in text
        assert "keyring" in text  # the header says where the token lives
        assert password not in text
        assert listing.workspace_id == world.workspace_id
