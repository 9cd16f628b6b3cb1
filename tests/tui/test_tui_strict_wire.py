"""The TUI on the hosted platform's shapes: a local platform in strict-wire mode.

Strict-wire answers carry no ``validationStatus``/``validationMessage``/``validatedAt``, so a
configuration's state comes from this session's validations and ``/ai/llm/available``.
Sign-in is a real ``POST /user/login``; the rest goes through the screens at 80x24.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.server import admin
from flashback_tui.tui.screens.config_form import RotateSecretDialog
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from flashback_tui.tui.screens.workspaces import WorkspacesScreen
from tests.support.fake_provider import FakeProvider
from tests.support.tui_session import strict_wire_platform
from tests.tui.harness import SIZE, make_app, screen_text, wait_for
from tests.tui.test_config_flows import GOOD_KEY, create, select_row, status, type_into

PASSWORD = "a-long-enough-password"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={GOOD_KEY}) as fake:
        yield fake


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A strict-wire platform with a WRITE member of two workspaces (password sign-in)."""
    data_dir = tmp_path_factory.mktemp("strict")
    with strict_wire_platform(data_dir) as server:
        tag = uuid.uuid4().hex[:8]
        email = f"writer-{tag}@example.test"
        admin.add_user(data_dir, email, PASSWORD, name="Writer")
        names = [f"alpha-{tag}", f"beta-{tag}"]
        for name in names:
            admin.add_workspace(data_dir, name)
            admin.add_member(data_dir, name, email, "WRITE")
        yield SimpleNamespace(url=server.url, email=email, workspaces=names)


async def sign_in(strict: SimpleNamespace) -> str:
    async with FlashbackClient(strict.url) as client:
        answer = await client.login(strict.email, PASSWORD)
    assert answer.access_token is not None
    return answer.access_token.get_secret_value()


async def test_the_whole_flow_on_hosted_shapes(strict, provider) -> None:
    token = await sign_in(strict)
    app = make_app(strict.url, token, email=strict.email)
    async with app.run_test(size=SIZE) as pilot:
        picker = await wait_for(lambda: isinstance(app.screen, WorkspacesScreen) and app.screen,
                                pilot)
        target = strict.workspaces[1]
        await wait_for(lambda: any(r.cells[0] == target and r.cells[1] == "WRITE"
                                   for r in picker.table.visible_rows), pilot)
        picker.table.cursor_row = next(i for i, r in enumerate(picker.table.visible_rows)
                                       if r.cells[0] == target)
        await pilot.press("enter")
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert screen.workspace_name == target

        # Create: validated in the background; "Valid" comes from this session's run.
        await create(pilot, "Hosted", provider.endpoint("ok"), GOOD_KEY)
        await wait_for(lambda: status(screen, "Hosted") == "Valid", pilot)
        async with FlashbackClient(strict.url, token=token) as client:  # what the list had
            listed = (await client.get_ai_llms()).ai_llms
        assert [llm.validation_status for llm in listed if llm.name == "Hosted"] == [None]

        # A reload keeps it Valid: the session's verdict, and /ai/llm/available agrees.
        await pilot.press("r")
        await pilot.pause()
        await wait_for(lambda: status(screen, "Hosted") == "Valid", pilot)

        # Rotate to a wrong secret: the new verdict says Invalid; back to the right one.
        select_row(screen, "Hosted")
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, RotateSecretDialog), pilot)
        await type_into(pilot, "#secret", "sk-rotated-but-wrong")
        await pilot.press("enter")
        await wait_for(lambda: status(screen, "Hosted").startswith("Invalid"), pilot)
        await pilot.press("v")
        await wait_for(lambda: status(screen, "Hosted").startswith("Invalid"), pilot)

        # Delete it.
        select_row(screen, "Hosted")
        await pilot.press("d")
        dialog = await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog)
                                and app.screen, pilot)
        await pilot.click("#delete")
        await wait_for(lambda: app.screen is screen, pilot)
        await wait_for(lambda: "Hosted" not in [r.cells[0] for r in screen.table.visible_rows],
                       pilot)
        assert dialog is not None
        assert "Hosted" not in screen_text(app)


async def test_a_configuration_never_validated_here_is_unknown(strict, provider) -> None:
    token = await sign_in(strict)
    async with FlashbackClient(strict.url, token=token) as client:
        workspaces = (await client.get_workspaces()).workspaces
        ws = next(w for w in workspaces if w.name == strict.workspaces[0])
        from flashback_tui.api.models import AiLlmCreate, AiType
        await client.create_ai_llm(AiLlmCreate(
            name="Untested", ai_type=AiType.OPENAI, endpoint=provider.endpoint("ok"),
            secret=GOOD_KEY, workspace_id=ws.id))
    app = make_app(strict.url, token, email=strict.email)
    async with app.run_test(size=SIZE) as pilot:
        picker = await wait_for(lambda: isinstance(app.screen, WorkspacesScreen) and app.screen,
                                pilot)
        await wait_for(lambda: any(r.cells[0] == ws.name for r in picker.table.visible_rows),
                       pilot)
        picker.table.cursor_row = next(i for i, r in enumerate(picker.table.visible_rows)
                                       if r.cells[0] == ws.name)
        await pilot.press("enter")
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert status(screen, "Untested") == "Unknown"
        select_row(screen, "Untested")
        await pilot.press("v")
        await wait_for(lambda: status(screen, "Untested") == "Valid", pilot)
