"""``policy``, ``violations`` and ``alerts`` against the real local platform and its gateway."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest

from flashback_tui.commands import policy_lists
from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import Cli

POLICY_FIELDS = {"id", "orgId", "name", "content", "riskType", "actionType", "createdAt",
                 "workspaceId", "repoId"}
VIOLATION_FIELDS = {"id", "policyId", "policyName", "timestamp", "explanation", "repoId",
                    "repoName", "userId", "userName", "repoAiApiKeyId", "repoAiApiKeyName",
                    "severity", "block", "llmType", "llmModel", "host"}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def gateway(cli: Cli, world: Any, create_llm: Callable[..., str]) -> openai.OpenAI:
    """An OpenAI client on the gateway with a key of repository ``bot`` (linked)."""
    create_llm("policy-config")
    ok(cli("repo", "create", "bot", "--workspace", world.workspace_name, "--llm",
           "policy-config"))
    secret = ok(cli("key", "create", "bot", "--name", "app")).stdout.strip()
    return openai.OpenAI(base_url=f"{cli.url}/v1", api_key=secret, max_retries=0)


def send(client: openai.OpenAI, text: str, model: str = "m-1") -> bool:
    """Send one prompt; False when the gateway blocked it."""
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    except openai.PermissionDeniedError:
        return False
    return True


def test_policy_create_list_show_update_delete(cli: Cli, world: Any) -> None:
    made = ok(cli("policy", "create", "--name", "keys", "--risk", "high", "--action", "block",
                  "--content", "re:^never-[0-9]{40}$", "--workspace", world.workspace_name))
    policy_id = made.stdout.strip()
    shown = as_json(cli("policy", "show", "keys", "--json"))
    assert POLICY_FIELDS <= set(shown) and shown["id"] == policy_id
    assert (shown["riskType"], shown["actionType"]) == ("HIGH", 2)
    assert shown["workspaceId"] == world.workspace_id and shown["repoId"] is None
    listed = as_json(cli("policy", "list", "--workspace", world.workspace_id, "--json"))
    assert [p["id"] for p in listed] == [policy_id]
    assert "workspace " + world.workspace_name in ok(cli("policy", "list")).stdout

    updated = as_json(cli("policy", "update", "keys", "--action", "alert", "--risk", "low",
                          "--content-file", "-", "--json", input="secret, password\n"))
    assert (updated["actionType"], updated["riskType"]) == (1, "LOW")
    assert updated["content"] == "secret, password"
    assert "CONTENT" not in ok(cli("policy", "show", policy_id)).stdout
    assert cli("policy", "update", "keys").exit_code == ExitCode.USAGE
    assert cli("policy", "delete", "keys").exit_code == ExitCode.USAGE  # no terminal, no --yes
    ok(cli("policy", "delete", "keys", "--yes"))
    assert cli("policy", "show", policy_id).exit_code == ExitCode.NOT_FOUND


def test_policy_scopes_org_and_repository_and_stdin_content(cli: Cli, world: Any,
                                                             platform: Any, tmp_path: Any) -> None:
    ok(cli("repo", "create", "scoped", "--workspace", world.workspace_name))
    repo_policy = ok(cli("policy", "create", "--name", "repo-rule", "--risk", "medium",
                         "--action", "log", "--repo", "scoped",
                         input="re:^nothing-[0-9]{40}$\n")).stdout.strip()
    shown = as_json(cli("policy", "show", repo_policy, "--json"))
    assert shown["repoId"] and shown["workspaceId"] == world.workspace_id
    path = tmp_path / "rule.txt"
    path.write_text("re:^org-never-[0-9]{40}$\n")
    owner = cli.as_role(platform.admin_token)
    refused = cli("policy", "create", "--name", "org", "--risk", "low", "--action", "log",
                  "--content-file", str(path))
    assert refused.exit_code == ExitCode.FORBIDDEN
    org_policy = ok(owner("policy", "create", "--name", f"org-{world.workspace_name}", "--risk",
                          "low", "--action", "log", "--content-file", str(path))).stdout.strip()
    try:
        shown = as_json(owner("policy", "show", org_policy, "--json"))
        assert shown["workspaceId"] is None and shown["repoId"] is None
        both = cli("policy", "list", "--workspace", "x", "--repo", "y")
        assert both.exit_code == ExitCode.USAGE
        bad = cli("policy", "create", "--name", "n", "--risk", "severe", "--action", "log",
                  "--content", "x")
        assert bad.exit_code == ExitCode.USAGE
        reader = cli.as_role(world.tokens["READ"])
        denied = reader("policy", "create", "--name", "n", "--risk", "low", "--action", "log",
                        "--content", "x", "--workspace", world.workspace_name)
        assert denied.exit_code == ExitCode.FORBIDDEN
    finally:
        ok(owner("policy", "delete", org_policy, "--yes"))


def test_policy_validate_and_recommend(cli: Cli, world: Any) -> None:
    good = as_json(cli("policy", "validate", "--content", "password, secret", "--json"))
    assert set(good[0]) >= {"policy_uuid", "score", "advice", "severity", "issues"}
    bad = cli("policy", "validate", "--content", "re:(", "--json")
    assert bad.exit_code == ExitCode.VALIDATION_FAILED
    assert json.loads(bad.stdout)[0]["severity"] in ("medium", "high")
    ok(cli("policy", "create", "--name", "named", "--risk", "low", "--action", "log",
           "--content", "alpha, beta", "--workspace", world.workspace_name))
    table = ok(cli("policy", "validate", "named")).stdout
    assert "named" in table.splitlines()[1]
    recommended = as_json(cli("policy", "recommend", "support bot with card payments",
                              "--workspace", world.workspace_name, "--json"))
    assert recommended["level"] == 1 and recommended["uuid"] == world.workspace_id
    assert recommended["recommended_policies"]
    assert {"content", "riskType", "alertType"} <= set(recommended["recommended_policies"][0])


def test_violations_and_alerts_with_every_filter_and_paging(
    cli: Cli, world: Any, gateway: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, risk, action, word in (("blocker", "high", "block", "alpha"),
                                     ("logger", "low", "log", "beta")):
        ok(cli("policy", "create", "--name", name, "--risk", risk, "--action", action,
               "--content", word, "--workspace", world.workspace_name))
    assert not send(gateway, "alpha here")
    for n in range(3):
        assert send(gateway, f"beta {n}", model="m-2")

    rows = as_json(cli("violations", "--workspace", world.workspace_name, "--json"))
    assert len(rows) == 4 and set(rows[0]) >= VIOLATION_FIELDS
    blocked = as_json(cli("violations", "--workspace", world.workspace_name, "--blocked",
                          "--json"))
    assert [(v["policyName"], v["block"], v["severity"]) for v in blocked] == [
        ("blocker", True, "HIGH")]
    by_severity = as_json(cli("violations", "--workspace", world.workspace_name,
                              "--severity", "low", "--json"))
    assert {v["policyName"] for v in by_severity} == {"logger"} and len(by_severity) == 3
    host = rows[0]["host"]
    for extra, count in ((["--policy", "logger"], 3), (["--repo", "bot"], 4),
                         (["--model", "m-2"], 3), (["--model", "m-1", "--model", "m-2"], 4),
                         (["--llm-type", rows[0]["llmType"]], 4), (["--host", host], 4),
                         (["--from", "1h"], 4), (["--to", "2000-01-01T00:00:00Z"], 0),
                         (["--host", "elsewhere.example"], 0)):
        listed = as_json(cli("violations", "--workspace", world.workspace_id, *extra,
                             "--json"))
        assert len(listed) == count, extra

    monkeypatch.setattr(policy_lists, "PAGE", 2)
    paged = cli("violations", "--workspace", world.workspace_name, "--limit", "3", "--json")
    assert len(json.loads(ok(paged).stdout)) == 3 and "3 of 4" in paged.stderr
    table = ok(cli("violations", "--workspace", world.workspace_name)).stdout
    assert table.splitlines()[0].split()[:3] == ["TIME", "SEVERITY", "BLOCKED"]

    alerts = as_json(cli("alerts", "--workspace", world.workspace_name, "--json"))
    assert [a["policyName"] for a in alerts] == ["blocker"] and "message" in alerts[0]
    assert "severity" not in alerts[0]
    assert as_json(cli("alerts", "--policy", "logger", "--json")) == []
    assert cli("alerts", "--blocked").exit_code == ExitCode.USAGE  # violations only
    assert cli("violations", "--from", "yesterday").exit_code == ExitCode.USAGE
    empty = ok(cli("alerts", "--workspace", world.workspace_name, "--model", "none"))
    assert empty.stdout == "" and "No alerts match." in empty.stderr
