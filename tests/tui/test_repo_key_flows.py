"""Repositories and their AI keys through the real TUI at 80x24, the real client and server.

A key made in the TUI is used through the gateway with the ``openai`` SDK, then revoked and
refused. The only stand-in is the AI provider (``FakeProvider`` on loopback).
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from textual.widgets import SelectionList, Static

from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.confirm import ConfirmDialog
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from flashback_tui.tui.screens.key_secret_dialog import KeyNameDialog, KeySecretDialog
from flashback_tui.tui.screens.keys import KeyListScreen
from flashback_tui.tui.screens.repo_form import RepoFormScreen
from flashback_tui.tui.screens.repos import RepoListScreen
from tests.gateway.helpers import Api
from tests.support.fake_provider import FakeProvider
from tests.tui.harness import make_app, screen_text, wait_for
from tests.tui.test_console import shown, toasts

SIZE = (80, 24)
GOOD_KEY = "sk-good-0123456789abcdef"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={GOOD_KEY}) as fake:
        yield fake


def add_config(platform, world, provider: FakeProvider, name: str) -> str:
    api = Api(platform.url, world.tokens["WRITE"])
    return api.call("POST", "/ai/llm", json={
        "name": name, "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
        "secret": GOOD_KEY, "workspaceId": world.workspace_id})["aiLlmId"]


def cells(screen, column: int) -> list[str]:
    return [row.cells[column] for row in screen.table.visible_rows]


async def loaded(pilot, kind):
    app = pilot.app
    return await wait_for(lambda: isinstance(app.screen, kind) and app.screen.loaded
                          and app.screen, pilot)


async def edit_links(pilot, *, name: str | None = None, toggle: bool = True) -> None:
    """In the open repository form: set the name, tick or untick the first choice, save."""
    form = await wait_for(lambda: isinstance(pilot.app.screen, RepoFormScreen)
                          and pilot.app.screen, pilot)
    picker = form.query_one("#links", SelectionList)
    await wait_for(lambda: picker.option_count > 0, pilot)
    if name is not None:
        await pilot.press(*name)
    if toggle:
        picker.focus()
        await pilot.press("space")
    await pilot.press("ctrl+s")


async def gateway_chat(base_url: str, secret: str) -> str:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=secret, max_retries=0) as client:
        answer = await client.chat.completions.create(
            model="fake-gpt-small", messages=[{"role": "user", "content": "hello"}])
    return answer.choices[0].message.content or ""


async def test_link_unlink_then_delete_a_repository(platform, world, provider) -> None:
    add_config(platform, world, provider, "gw-config")
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, ConfigListScreen)
        await pilot.press("b")
        repos = await loaded(pilot, RepoListScreen)
        assert "No repositories" in screen_text(app)
        await pilot.press("n")
        await edit_links(pilot, name="docs")
        await wait_for(lambda: cells(repos, 1) == ["gw-config"], pilot)
        assert cells(repos, 0) == ["docs"]
        await pilot.press("e")
        await edit_links(pilot)
        await wait_for(lambda: cells(repos, 1) == ["—"], pilot)
        await pilot.press("e")
        await edit_links(pilot)
        await wait_for(lambda: cells(repos, 1) == ["gw-config"], pilot)
        await pilot.press("d")
        dialog = await wait_for(lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
                                pilot)
        assert "gw-config" in screen_text(app) and "docs" in screen_text(app)
        assert dialog.is_current
        await pilot.press("y")
        await wait_for(lambda: repos.table.total_count == 0 and app.screen is repos, pilot)


async def test_config_in_use_offers_its_repositories(platform, world, provider) -> None:
    llm_id = add_config(platform, world, provider, "used-config")
    Api(platform.url, world.tokens["WRITE"]).call("POST", "/repo", json={
        "name": "user-of-it", "workspaceId": world.workspace_id, "storageType": "S3",
        "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm_id}]})
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, ConfigListScreen)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog), pilot)
        assert "Repositories (g)" in screen_text(app)
        await pilot.press("g")
        repos = await loaded(pilot, RepoListScreen)
        assert cells(repos, 0) == ["user-of-it"]


async def test_a_key_shown_once_works_at_the_gateway_until_revoked(
        platform, world, provider) -> None:
    llm_id = add_config(platform, world, provider, "gw-config")
    Api(platform.url, world.tokens["WRITE"]).call("POST", "/repo", json={
        "name": "docs-bot", "workspaceId": world.workspace_id, "storageType": "S3",
        "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm_id}]})
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, ConfigListScreen)
        await pilot.press("b")
        await loaded(pilot, RepoListScreen)
        await pilot.press("enter")
        keys = await loaded(pilot, KeyListScreen)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, KeyNameDialog), pilot)
        await pilot.press(*"ci", "ctrl+s")
        dialog = await wait_for(lambda: isinstance(app.screen, KeySecretDialog) and app.screen,
                                pilot)
        text = screen_text(app)
        assert "will not be shown again" in text and "I have stored it" in text
        secret = str(dialog.query_one("#secret", Static).render())
        assert secret in text
        await pilot.press("c")
        assert app.clipboard == secret
        await pilot.press("escape")
        assert app.screen is dialog  # only "I have stored it" closes it
        await pilot.press("s")
        await wait_for(lambda: app.screen is keys and cells(keys, 4) == ["active"], pilot)
        assert secret not in screen_text(app)
        assert await gateway_chat(f"{platform.url}/v1", secret)

        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, KeyNameDialog), pilot)
        await pilot.press("end", "2", "ctrl+s")
        await wait_for(lambda: cells(keys, 0) == ["ci2"], pilot)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        assert "refused by the gateway" in screen_text(app)
        await pilot.press("y")
        await wait_for(lambda: cells(keys, 4) == ["revoked"], pilot)
        with pytest.raises(openai.AuthenticationError):
            await gateway_chat(f"{platform.url}/v1", secret)
        assert secret not in screen_text(app)


async def test_read_members_see_repository_writes_refused(platform, world, provider) -> None:
    Api(platform.url, world.tokens["WRITE"]).call("POST", "/repo", json={
        "name": "looked-at", "workspaceId": world.workspace_id, "storageType": "S3",
        "mode": "NORMAL"})
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    notes = toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, ConfigListScreen)
        await pilot.press("b")
        await loaded(pilot, RepoListScreen)
        bar = next(line for line in screen_text(app).splitlines() if "Refresh" in line)
        assert "New" not in bar and "Delete" not in bar and "AI keys" in bar
        for key, name in (("n", "New"), ("e", "Edit"), ("d", "Delete")):
            await pilot.press(key)
            await wait_for(lambda name=name: shown(notes, f"{name}: not allowed: Your role"),
                           pilot)
        assert isinstance(app.screen, RepoListScreen)
        await pilot.press("enter")
        await loaded(pilot, KeyListScreen)
        await pilot.press("n")
        await wait_for(lambda: shown(notes, "New key: not allowed: Your role"), pilot)
        assert isinstance(app.screen, KeyListScreen)
