"""SVG snapshots at 80x24 of the repository, AI key and violation screens, on fixed data."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import SelectionList

from flashback_tui.api.models import (
    Policy,
    PolicyIssue,
    PolicyValidationResult,
    Repo,
    RepoAiApiKey,
    SystemEvent,
    UserInfo,
    Violation,
    ViolationFilters,
    Workspace,
    WorkspaceUser,
)
from flashback_tui.tui.policy_scope import Scope, filter_choices
from flashback_tui.tui.screens.events import EventListScreen, EventsLoaded
from flashback_tui.tui.screens.key_secret_dialog import KeySecretDialog
from flashback_tui.tui.screens.keys import KeyListScreen, KeysLoaded
from flashback_tui.tui.screens.members import MemberListScreen, MembersLoaded
from flashback_tui.tui.screens.policies import PoliciesLoaded, PolicyListScreen
from flashback_tui.tui.screens.policy_form import PolicyFormScreen, validation_text
from flashback_tui.tui.screens.repo_form import RepoFormScreen, picker_choices
from flashback_tui.tui.screens.repos import RepoListScreen, ReposLoaded
from flashback_tui.tui.screens.violations import (
    ChoicesLoaded,
    PageLoaded,
    ViolationListScreen,
)
from tests.tui.fixed_data import CONFIGS, fixed_app
from tests.tui.test_snapshots import steady_cursors

SMALL = (80, 24)
AT = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)


def key(n: int, name: str, *, revoked: bool = False) -> RepoAiApiKey:
    return RepoAiApiKey(id=f"key-{n}", name=name, repo_id="repo-1", key=f"fbk_{n:04d}a1b2c3d4e5",
                        ai_type="OPENAI", created_at=AT.replace(day=n),
                        deleted_at=AT.replace(day=n + 1) if revoked else None)


def repo(n: int, name: str, links: tuple[str, ...], keys: list[RepoAiApiKey]) -> Repo:
    return Repo.model_validate({
        "id": f"repo-{n}", "name": name, "workspaceId": "ws-prod", "storageType": "S3",
        "mode": "NORMAL", "createdAt": AT.replace(day=n).isoformat(),
        "aiLlms": [{"aiLlmId": i} for i in links],
        "aiApiKeys": [k.model_dump(by_alias=True, mode="json") for k in keys]})


KEYS = [key(1, "ci"), key(2, "docs-site"), key(3, "old laptop", revoked=True)]
REPOS = [repo(1, "docs-bot", ("llm-0001",), KEYS),
         repo(2, "support-bot", ("llm-0001", "llm-0002"), [key(4, "helpdesk")]),
         repo(3, "sandbox", (), [])]


def violation(n: int, policy: str, severity: str, block: bool, model: str) -> Violation:
    return Violation(id=f"v-{n}", policy_id=f"p-{n}", policy_name=policy,
                     timestamp=AT.replace(minute=n), explanation=f'matched keyword of "{policy}"',
                     repo_id="repo-1", repo_name="docs-bot", user_id="u1", user_name="ops",
                     repo_ai_api_key_id="key-1", repo_ai_api_key_name="ci", severity=severity,
                     block=block, llm_type="OPENAI", llm_model=model, host="api.openai.com")


VIOLATIONS = [violation(9, "no secrets", "HIGH", True, "gpt-4o"),
              violation(7, "customer names", "MEDIUM", False, "gpt-4o-mini"),
              violation(3, "profanity", "LOW", False, "gpt-4o-mini")]


async def show_repos(pilot) -> RepoListScreen:
    screen = RepoListScreen(pilot.app.state, "ws-prod", "Production")
    await pilot.app.push_screen(screen)
    screen.post_message(ReposLoaded(list(REPOS), list(CONFIGS)))
    await pilot.pause()
    return screen


async def show_keys(pilot) -> KeyListScreen:
    screen = KeyListScreen(pilot.app.state, "repo-1", "docs-bot", "ws-prod")
    await pilot.app.push_screen(screen)
    screen.post_message(KeysLoaded(list(KEYS)))
    await pilot.pause()
    return screen


async def show_violations(pilot, filters: ViolationFilters | None = None
                          ) -> ViolationListScreen:
    screen = ViolationListScreen(pilot.app.state, "ws-prod", "Production", filters=filters)
    await pilot.app.push_screen(screen)
    screen.post_message(PageLoaded(list(VIOLATIONS), 3))
    await pilot.pause()
    return screen


def test_repositories(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_repos)


def test_repository_form(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_repos(pilot)
        form = RepoFormScreen(pilot.app.state, REPOS[0], "ws-prod")
        await pilot.app.push_screen(form)
        picker = form.query_one("#links", SelectionList)
        picker.add_options(picker_choices(list(CONFIGS), {"llm-0001", "llm-0004"},
                                          {"llm-0001"}))
        picker.highlighted = 0
        steady_cursors(pilot)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_repository_delete(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_repos, press=["d"])


def test_ai_keys(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_keys)


def test_ai_key_secret_once(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_keys(pilot)
        await pilot.app.push_screen(KeySecretDialog("ci", "fbs_demo_not_a_real_secret_0000"))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_violations(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_violations)


def test_violation_detail(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_violations,
                        press=["enter"])


def test_violation_filters(snap_compare) -> None:
    """Repository and policy picked by name; the line in force names the policy."""
    async def run_before(pilot) -> None:
        screen = await show_violations(pilot, ViolationFilters(policy_id="p-2"))
        scope = Scope("org", list(REPOS), list(POLICIES))
        screen.post_message(ChoicesLoaded(filter_choices(scope, pilot.app.state.workspace_name)))
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        steady_cursors(pilot)

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_violation_filters_refused(snap_compare) -> None:
    """No choices (no platform): said beside them; a bad From said under it, kept as typed."""
    async def run_before(pilot) -> None:
        await show_violations(pilot, ViolationFilters(repo_id="repo-1", policy_id="p-gone"))
        await pilot.press("f")
        await pilot.pause()
        pilot.app.screen.query_one("#f-from_").focus()
        await pilot.press(*"31.01.2026", "ctrl+s")
        await pilot.pause()
        steady_cursors(pilot)

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


POLICIES = [
    Policy(id="p-1", org_id="org", name="no secrets", content="password\nsecret key",
           risk_type="HIGH", action_type=2, workspace_id="ws-prod"),
    Policy(id="p-2", org_id="org", name="customer names", content="names of customers",
           risk_type="MEDIUM", action_type=1),
    Policy(id="p-3", org_id="org", name="profanity", content="swearing", risk_type="LOW",
           action_type=0, repo_id="repo-1"),
]


async def show_policies(pilot) -> PolicyListScreen:
    screen = PolicyListScreen(pilot.app.state, "ws-prod", "Production")
    await pilot.app.push_screen(screen)
    screen.post_message(PoliciesLoaded(list(POLICIES), list(REPOS), "org"))
    await pilot.pause()
    return screen


def test_policies(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_policies)


def test_policy_form_with_validation(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_policies(pilot)
        form = PolicyFormScreen(pilot.app.state, POLICIES[0], org_id="org",
                                workspace_id="ws-prod", repos=list(REPOS))
        await pilot.app.push_screen(form)
        result = PolicyValidationResult(
            policy_uuid="p-1", score=72, severity="medium", advice="Name what to look for.",
            issues=[PolicyIssue(type="vague", description="Too short to be precise.",
                                suggestion="Add examples.")])
        form.query_one("#advice").update(validation_text(result))
        form.query_one("#content").cursor_blink = False
        steady_cursors(pilot)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_members(snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = MemberListScreen(pilot.app.state, "ws-prod", "Production")
        await pilot.app.push_screen(screen)
        users = [WorkspaceUser(user_id=f"user-000{n}", role=role,
                               user=UserInfo(id=f"user-000{n}", email=email, name=name))
                 for n, email, name, role in ((1, "ops@example.test", "Ops", "ADMIN"),
                                              (2, "dev@example.test", "Dev", "WRITE"),
                                              (3, "audit@example.test", "Audit", "READ"))]
        workspace = Workspace(id="ws-prod", name="Production", users=users)
        screen.post_message(MembersLoaded(workspace, False))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_events(snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = EventListScreen(pilot.app.state, "ws-prod", "Production")
        await pilot.app.push_screen(screen)
        events = [SystemEvent(id=n, timestamp=f"2024-03-04T09:{n:02d}:00Z", context=context,
                              context_id=f"{context}-1", event=event, org_id="org",
                              user_id="user-0001", user_email="ops@example.test",
                              show_unread=n > 2,
                              json_data='{"changed": ["name"]}' if event == "updated" else None)
                  for n, context, event in ((5, "repo", "updated"), (4, "aillmapikey", "created"),
                                            (3, "aillm", "created"), (2, "repo", "created"),
                                            (1, "workspaceuser", "created"))]
        screen.post_message(EventsLoaded(events, 5))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)
