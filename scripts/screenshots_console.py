"""The console part of the screenshot tour: repositories, AI keys, policies, violations,
members and events, driven through the real app on the demo platform of screenshots.py.

A key is made in the app and used through the gateway so that a block policy (also made in
the app) has something to catch. The secret dialog itself is not saved: it holds a secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

Save = Callable[[Any, str], None]
WaitUntil = Callable[..., Awaitable[None]]


async def console_tour(app: Any, pilot: Any, save: Save, wait_until: WaitUntil) -> None:
    """From the configuration list of workspace Default, through every console screen."""
    from textual.widgets import Select, Static, TextArea

    from flashback_tui.tui.screens.config_list import ConfigListScreen
    from flashback_tui.tui.screens.events import EventListScreen
    from flashback_tui.tui.screens.key_secret_dialog import KeyNameDialog, KeySecretDialog
    from flashback_tui.tui.screens.keys import KeyListScreen
    from flashback_tui.tui.screens.members import MemberListScreen
    from flashback_tui.tui.screens.policies import PolicyListScreen
    from flashback_tui.tui.screens.policy_form import PolicyFormScreen
    from flashback_tui.tui.screens.repo_form import RepoFormScreen
    from flashback_tui.tui.screens.repos import RepoListScreen
    from flashback_tui.tui.screens.violation_filters import ViolationDetailDialog
    from flashback_tui.tui.screens.violations import ViolationListScreen

    def on(kind: type) -> Callable[[], bool]:
        return lambda: isinstance(app.screen, kind) and getattr(app.screen, "loaded", True)

    await pilot.press("b")
    await wait_until(pilot, on(RepoListScreen), "the repositories")
    await pilot.pause(0.3)
    save(app, "14-repositories")
    await pilot.press("e")
    await wait_until(pilot, on(RepoFormScreen), "the repository form")
    await pilot.pause(0.5)
    save(app, "15-repository-links")
    await pilot.press("escape")
    await wait_until(pilot, on(RepoListScreen), "the repositories")

    await pilot.press("enter")
    await wait_until(pilot, on(KeyListScreen), "the keys")
    await pilot.press("n")
    await wait_until(pilot, on(KeyNameDialog), "the key dialog")
    await pilot.press(*"docs-site", "ctrl+s")
    await wait_until(pilot, on(KeySecretDialog), "the secret")
    secret = str(app.screen.query_one("#secret", Static).render())
    await pilot.press("s")
    await wait_until(pilot, on(KeyListScreen), "the keys")
    await pilot.pause(0.3)
    save(app, "16-ai-keys")
    await pilot.press("escape", "escape")
    await wait_until(pilot, on(ConfigListScreen), "the list")

    await pilot.press("p")
    await wait_until(pilot, on(PolicyListScreen), "the policies")
    await pilot.press("n")
    await wait_until(pilot, on(PolicyFormScreen), "the policy form")
    form = app.screen
    await pilot.press(*"no secrets")
    form.query_one("#risk", Select).value = "HIGH"
    form.query_one("#action", Select).value = 2
    form.query_one("#content", TextArea).load_text("password, secret key")
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: "Score" in str(form.query_one("#advice").render()),
                     "the policy score")
    form.query_one("#content", TextArea).cursor_blink = False
    await pilot.pause(0.3)
    save(app, "17-policy-editor")
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: on(PolicyListScreen)() and app.screen.table.total_count,
                     "the new policy")
    await pilot.pause(0.3)
    save(app, "18-policies")

    url = f"{app.session.url}/v1/chat/completions"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {secret}"}) as http:
        for text in ("what is the admin password?", "hello", "my secret key is in git"):
            answer = await http.post(url, json={
                "model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
            print(f"  gateway: {answer.status_code} for a prompt of {len(text)} characters")
    await pilot.press("escape")
    await wait_until(pilot, on(ConfigListScreen), "the list")
    await pilot.press("x")
    await wait_until(pilot, lambda: on(ViolationListScreen)() and app.screen.items,
                     "the violations")
    await pilot.pause(0.3)
    save(app, "19-violations")
    await pilot.press("enter")
    await wait_until(pilot, on(ViolationDetailDialog), "a violation")
    await pilot.pause(0.3)
    save(app, "20-violation-detail")
    await pilot.press("escape", "escape")
    await wait_until(pilot, on(ConfigListScreen), "the list")

    await pilot.press("m")
    await wait_until(pilot, on(MemberListScreen), "the members")
    await pilot.pause(0.3)
    save(app, "21-members")
    await pilot.press("escape")
    await wait_until(pilot, on(ConfigListScreen), "the list")
    await pilot.press("h")
    await wait_until(pilot, on(EventListScreen), "the events")
    await pilot.pause(0.3)
    save(app, "22-events")
    await pilot.press("escape")
    await wait_until(pilot, on(ConfigListScreen), "the list")
