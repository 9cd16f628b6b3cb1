"""The rules of the violation filters dialog: what is refused, what is sent, how names read."""

from __future__ import annotations

import pytest

from flashback_tui.api.models import Policy, Repo, ViolationFilters
from flashback_tui.tui.policy_scope import FilterChoices, Scope, filter_choices
from flashback_tui.tui.screens.violation_filters import (
    describe_filters,
    filter_problems,
    wire_filters,
)

FROM_WORDS = "From must be a date such as 2026-01-31 or a time such as 2026-01-31T08:00:00Z."


@pytest.mark.parametrize(("texts", "problems"), [
    ({"severity": "low, High", "from_": "2026-01-01", "to": "2026-01-31T08:00:00Z"}, {}),
    ({"from_": "2026-01-31", "to": "2026-01-31"}, {}),  # one whole day
    ({"from_": "2026-01-31T23:00:00-02:00", "to": "2026-02-01"}, {}),
    ({"from_": "31.01.2026"}, {"from_": FROM_WORDS}),
    ({"to": "soon"}, {"to": FROM_WORDS.replace("From", "To")}),
    ({"from_": "2026-02-01", "to": "2026-01-31"}, {"from_": "From must not be after To."}),
    ({"from_": "2026-02-01T00:30:00+01:00", "to": "2026-01-31T23:00:00Z"},
     {"from_": "From must not be after To."}),
    ({"severity": "HIGH, critical"},
     {"severity": "Severity must be LOW, MEDIUM or HIGH (several with commas), not "
                  "'critical'."}),
])
def test_filter_problems(texts: dict[str, str], problems: dict[str, str]) -> None:
    assert filter_problems(texts) == problems


def test_times_are_sent_as_instants_and_a_date_to_includes_its_day() -> None:
    sent = wire_filters(ViolationFilters(from_="2026-01-31", to="2026-01-31", host=["h"]))
    assert (sent.from_, sent.to) == ("2026-01-31T00:00:00.000Z", "2026-01-31T23:59:59.999Z")
    assert sent.host == ["h"]
    sent = wire_filters(ViolationFilters(from_="2026-01-31T08:00:00+01:00"))
    assert (sent.from_, sent.to) == ("2026-01-31T07:00:00.000Z", None)


def policy(pid: str, name: str, *, workspace: str | None = None,
           repo: str | None = None) -> Policy:
    return Policy(id=pid, org_id="org", name=name, content="x", risk_type="LOW",
                  action_type=0, workspace_id=workspace, repo_id=repo)


def repo(rid: str, name: str, workspace: str) -> Repo:
    return Repo(id=rid, name=name, workspace_id=workspace, storage_type="S3", mode="NORMAL")


def test_repeated_names_say_where_they_live() -> None:
    names = {"ws-a": "Alpha", "ws-b": "Beta"}
    scope = Scope("org", [repo("r1", "bot", "ws-a"), repo("r2", "bot", "ws-b"),
                          repo("r3", "docs", "ws-a")],
                  [policy("p1", "no secrets", workspace="ws-a"),
                   policy("p2", "No Secrets", repo="r2"), policy("p3", "no secrets"),
                   policy("p4", "names", workspace="ws-b")])
    choices = filter_choices(scope, lambda wid: names.get(wid or "", wid or ""))
    assert choices.repos == (("bot (Alpha)", "r1"), ("bot (Beta)", "r2"), ("docs", "r3"))
    assert choices.policies == (("names", "p4"), ("no secrets (Alpha)", "p1"),
                                ("No Secrets (Beta, repo bot)", "p2"), ("no secrets (org)", "p3"))
    assert choices.names["policy_id"]["p2"] == "No Secrets (Beta, repo bot)"


def test_the_line_in_force_names_repository_and_policy() -> None:
    filters = ViolationFilters(repo_id="r1", policy_id="p9", severity=["HIGH"], block=True)
    choices = FilterChoices.of((("docs-bot", "r1"),), ())
    assert describe_filters(filters, names=choices.names) == (
        "severity HIGH, repository docs-bot, policy (unknown), blocked only")
    assert describe_filters(filters, alerts=True, names=choices.names, unknown="…") == (
        "repository docs-bot, policy …")


async def test_the_dialog_opens_while_the_choices_load_and_keeps_the_choice() -> None:
    from textual.widgets import Select

    from flashback_tui.tui.screens.violation_filters import ViolationFiltersDialog
    from tests.tui.fixed_data import fixed_app
    from tests.tui.harness import screen_text

    app = fixed_app()
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = ViolationFiltersDialog(ViolationFilters(policy_id="p2"))
        await app.push_screen(dialog)
        await pilot.pause()
        text = screen_text(app)
        assert "Loading the repositories and policies…" in text and "(loading…)" in text
        dialog.show_choices(FilterChoices.of((("docs-bot", "r1"),),
                                             (("alpha", "p1"), ("beta", "p2"))))
        await pilot.pause()
        text = screen_text(app)
        assert "Loading" not in text and "beta" in text
        assert dialog.query_one("#f-policy_id", Select).selection == "p2"
        dialog.show_choices(FilterChoices.of((), (("alpha", "p1"),)))  # p2 was deleted
        await pilot.pause()
        assert "(unknown)" in screen_text(app)
