"""``flashback-tui llm ...`` in-process against the real local platform and a fake provider."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import GOOD_KEY, Cli
from tests.support.fake_provider import FakeProvider

#: Fields every configuration carries; the optional ones are absent when they have no value.
WIRE_FIELDS = {"id", "orgId", "workspaceId", "userId", "name", "aiType", "endpoint", "key",
               "createdAt", "repos", "validationStatus"}
OPTIONAL_FIELDS = {"apiKeyId", "validationMessage", "validatedAt"}
STATS_FIELDS = {"aiLlmId", "totalApiCalls", "totalTokensIn", "totalTokensOut",
                "totalLlmTokensIn", "totalLlmTokensOut", "totalPolicyViolations",
                "totalAlerts", "totalBlocks"}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _listed(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("llm", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_create_prints_only_the_id_and_list_shows_it(
    cli: Cli, world: Any, provider: FakeProvider, canary: str
) -> None:
    result = cli("llm", "create", "--name", "Prod 日本", "--type", "openai", "--endpoint",
                 provider.endpoint("ok") + "/", "--workspace", world.workspace_name,
                 "--secret-stdin", input=f"  {canary}\n")
    assert result.exit_code == 0, result.stderr
    new_id = result.stdout.strip()
    assert result.stdout == new_id + "\n" and uuid.UUID(new_id)

    table = cli("llm", "list", "--workspace", world.workspace_id)
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "TYPE", "WORKSPACE", "STATUS", "REPOS", "ENDPOINT"]
    assert row.startswith(new_id) and "Prod 日本" in row and world.workspace_name in row
    assert row.endswith(provider.endpoint("ok"))  # the trailing slash was dropped

    (item,) = _listed(cli, "--workspace", world.workspace_name)
    assert WIRE_FIELDS <= set(item) <= WIRE_FIELDS | OPTIONAL_FIELDS
    assert item["id"] == new_id and item["aiType"] == "OPENAI" and item["key"] is None
    assert item["workspaceId"] == world.workspace_id and item["repos"] == []
    for output in (result.output, table.output, json.dumps(item)):
        assert canary not in output


def test_an_empty_list_says_so_on_stderr_and_how_to_add_one(cli: Cli, world: Any) -> None:
    table = cli("llm", "list", "--workspace", world.workspace_name)
    assert table.exit_code == 0, table.stderr
    assert table.stdout == ""
    assert f"No configurations in workspace {world.workspace_name}." in table.stderr
    assert "flashback-tui llm create" in table.stderr

    available = cli("llm", "list", "--workspace", world.workspace_name, "--available")
    assert available.stdout == "" and "llm validate --all" in available.stderr
    assert _listed(cli, "--workspace", world.workspace_name) == []


def test_list_csv_has_a_header_and_one_row_per_configuration(
    cli: Cli, world: Any, create_llm: Callable[..., str]
) -> None:
    ids = {create_llm("a,\"quoted\""), create_llm("plain")}
    result = cli("llm", "list", "--csv", "--workspace", world.workspace_name)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["id"] for row in rows} == ids
    assert {row["name"] for row in rows} == {"a,\"quoted\"", "plain"}
    assert {row["workspaceName"] for row in rows} == {world.workspace_name}
    assert result.stdout.splitlines()[0] == (
        "id,name,aiType,workspaceId,workspaceName,endpoint,key,validationStatus,validatedAt,"
        "createdAt,repos"
    )


def test_show_as_table_and_json_with_a_masked_key(
    cli: Cli, world: Any, provider: FakeProvider, canary: str
) -> None:
    access_key = "AKIAEXAMPLE0000WXYZ"
    created = cli("llm", "create", "--name", "bedrock", "--type", "AWS", "--endpoint",
                  provider.endpoint("bedrock"), "--workspace", world.workspace_id,
                  "--key-stdin", "--secret-stdin", input=f"{access_key}\n{canary}\n")
    assert created.exit_code == 0, created.stderr
    new_id = created.stdout.strip()

    shown = cli("llm", "show", new_id)
    assert shown.exit_code == 0, shown.stderr
    fields = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert fields["ID"] == new_id and fields["Type"] == "AWS"
    assert fields["Key"] == "****WXYZ"
    assert fields["Workspace"] == f"{world.workspace_name} ({world.workspace_id})"
    assert fields["Status"] == "NOT_VALIDATED"

    data = json.loads(cli("llm", "show", new_id, "--json").stdout)
    assert WIRE_FIELDS <= set(data) <= WIRE_FIELDS | OPTIONAL_FIELDS
    assert data["key"] == "****WXYZ"
    for output in (created.output, shown.output, json.dumps(data)):
        assert canary not in output and access_key not in output


def test_update_changes_only_what_is_given(
    cli: Cli, world: Any, create_llm: Callable[..., str], provider: FakeProvider
) -> None:
    llm_id = create_llm("before")
    result = cli("llm", "update", llm_id, "--name", "after")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"Updated {llm_id} (after)." in result.stderr
    (item,) = _listed(cli, "--workspace", world.workspace_id)
    assert item["name"] == "after" and item["endpoint"] == provider.endpoint("ok")

    # Same origin, another path: the stored secret may follow (a new type would need it again).
    result = cli("llm", "update", llm_id, "--endpoint", provider.endpoint("anykey"))
    assert result.exit_code == 0, result.stderr
    assert "needs validating again" in result.stderr
    (item,) = _listed(cli, "--workspace", world.workspace_id)
    assert (item["aiType"], item["endpoint"]) == ("OPENAI", provider.endpoint("anykey"))


def test_a_duplicate_name_is_rejected_by_the_platform_with_exit_2(
    cli: Cli, world: Any, create_llm: Callable[..., str], provider: FakeProvider
) -> None:
    create_llm("twin")
    result = cli("llm", "create", "--name", "twin", "--type", "OPENAI", "--workspace",
                 world.workspace_name, "--secret-env", "S", S="sk-x")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Error: 400 ") and "Hint:" in result.stderr


def test_validate_reports_a_line_per_configuration_in_order_and_exits_6(
    cli: Cli, create_llm: Callable[..., str], provider: FakeProvider, canary: str
) -> None:
    good = create_llm("good")
    bad = create_llm("bad", secret=canary, endpoint=provider.endpoint("slow", 300))
    echo = create_llm("echo", secret=canary, scenario="echo")
    result = cli("llm", "validate", bad, good, echo, "--concurrency", "2")
    assert result.exit_code == ExitCode.VALIDATION_FAILED, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["INVALID", bad, "bad"], ["VALID", good, "good"], ["INVALID", echo, "echo"]]
    assert "401" in lines[0]
    assert result.stderr.strip() == "1 valid, 2 invalid"
    assert canary not in result.output

    only_good = cli("llm", "validate", good, good)
    assert only_good.exit_code == 0 and len(only_good.stdout.splitlines()) == 1


def test_validate_all_json_and_available(
    cli: Cli, world: Any, create_llm: Callable[..., str]
) -> None:
    good = create_llm("good")
    bad = create_llm("bad", secret="sk-wrong")
    result = cli("llm", "validate", "--all", "--workspace", world.workspace_name, "--json")
    assert result.exit_code == ExitCode.VALIDATION_FAILED
    data = json.loads(result.stdout)
    assert {item["aiLlmId"]: item["status"] for item in data} == {good: "VALID", bad: "INVALID"}
    assert set(data[0]) == {"aiLlmId", "name", "status", "success", "message"}

    available = _listed(cli, "--available", "--workspace", world.workspace_name)
    assert [item["id"] for item in available] == [good]
    statuses = {item["id"]: item["validationStatus"]
                for item in _listed(cli, "--workspace", world.workspace_id)}
    assert statuses == {good: "VALID", bad: "INVALID"}


def test_validate_an_unknown_id_exits_4_before_validating(
    cli: Cli, create_llm: Callable[..., str]
) -> None:
    good = create_llm()
    result = cli("llm", "validate", good, UNKNOWN_ID)
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stdout == "" and UNKNOWN_ID in result.stderr


def test_rotate_from_env_then_validate(
    cli: Cli, world: Any, create_llm: Callable[..., str], canary: str
) -> None:
    llm_id = create_llm(secret=canary)
    assert cli("llm", "validate", llm_id).exit_code == ExitCode.VALIDATION_FAILED
    rotated = cli("llm", "rotate", llm_id, "--secret-env", "NEW_KEY", "--validate",
                  NEW_KEY=GOOD_KEY)
    assert rotated.exit_code == 0, rotated.output
    assert f"Rotated the credentials of {llm_id}." in rotated.stderr
    assert rotated.stdout.startswith("VALID")

    back = cli("llm", "rotate", llm_id, "--secret-stdin", "--validate", input=canary)
    assert back.exit_code == ExitCode.VALIDATION_FAILED
    assert canary not in back.output + rotated.output


def test_delete_with_yes_removes_it(cli: Cli, create_llm: Callable[..., str]) -> None:
    llm_id = create_llm()
    result = cli("llm", "delete", llm_id, "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"Deleted {llm_id}" in result.stderr
    assert cli("llm", "show", llm_id).exit_code == ExitCode.NOT_FOUND
    assert cli("llm", "delete", llm_id, "--yes").exit_code == ExitCode.NOT_FOUND


def test_roles_read_may_validate_but_not_write(
    cli: Cli, world: Any, create_llm: Callable[..., str]
) -> None:
    llm_id = create_llm()
    reader = cli.as_role(world.tokens["READ"])
    assert reader("llm", "validate", llm_id).exit_code == 0
    denied = reader("llm", "delete", llm_id, "--yes")
    assert denied.exit_code == ExitCode.FORBIDDEN
    assert denied.stderr.startswith("Error: 403 ") and "Hint: " in denied.stderr
    assert reader("llm", "update", llm_id, "--name", "x").exit_code == ExitCode.FORBIDDEN
    assert reader("llm", "create", "--name", "x", "--type", "OPENAI", "--workspace",
                  world.workspace_name, "--secret-env", "S",
                  S="sk").exit_code == ExitCode.FORBIDDEN
    writer = cli.as_role(world.tokens["WRITE"])
    assert writer("llm", "update", llm_id, "--name", "renamed").exit_code == 0


def test_outsiders_get_not_found(cli: Cli, world: Any, create_llm: Callable[..., str]) -> None:
    llm_id = create_llm()
    outsider = cli.as_role(world.tokens["NONE"])
    for args in (["show", llm_id], ["validate", llm_id], ["delete", llm_id, "--yes"],
                 ["rotate", llm_id, "--secret-env", "S"]):
        result = outsider("llm", *args, S="sk-x")
        assert result.exit_code == ExitCode.NOT_FOUND, (args, result.output)
    result = outsider("llm", "list", "--workspace", world.workspace_name)
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "flashback-tui workspaces" in result.stderr


def test_stats_table_and_json(cli: Cli, world: Any, create_llm: Callable[..., str]) -> None:
    llm_id = create_llm("counted")
    table = cli("llm", "stats", llm_id)
    assert table.exit_code == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "CALLS"]
    assert row.split()[:3] == [llm_id, "counted", "0"]

    data = json.loads(cli("llm", "stats", "--json").stdout)
    mine = next(item for item in data if item["aiLlmId"] == llm_id)
    assert set(mine) == STATS_FIELDS and mine["totalApiCalls"] == "0"


def test_url_and_profile_options_work_after_the_command(
    cli: Cli, world: Any, platform: Any
) -> None:
    result = cli("llm", "list", "--json", "--url", platform.url, url="http://127.0.0.1:9")
    assert result.exit_code == 0, result.output
    result = cli("workspaces", "--url", platform.url, url="http://127.0.0.1:9")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["workspaces"], ["llm", "list"], ["llm", "stats"]])
def test_a_bad_token_exits_3(cli: Cli, command: list[str]) -> None:
    result = cli(*command, token="not-a-token")
    assert result.exit_code == ExitCode.AUTHENTICATION
    assert "Hint: " in result.stderr and "not-a-token" not in result.output


def test_a_configuration_in_use_cannot_be_deleted(
    cli: Cli, world: Any, platform: Any, create_llm: Callable[..., str]
) -> None:
    from flashback_tui.server import admin

    llm_id = create_llm()
    admin.add_repo(platform.data_dir, "docs-bot", world.workspace_id, llm_id)
    result = cli("llm", "delete", llm_id, "--yes")
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "in use" in result.stderr
    shown = cli("llm", "show", llm_id)
    assert shown.exit_code == 0 and "docs-bot" in shown.stdout


def test_a_workspace_name_matching_several_is_a_usage_error_listing_ids() -> None:
    # The local platform refuses names equal but for case; another platform may not.
    import click

    from flashback_tui.api.models import Workspace
    from flashback_tui.commands.llm import pick_workspace

    team = [Workspace(id=f"w-{i}", name=name, org_id="o")
            for i, name in enumerate(("Team", "TEAM"))]
    assert pick_workspace(team, "TEAM").id == "w-1"
    with pytest.raises(click.ClickException) as caught:
        pick_workspace(team, "team")
    assert caught.value.exit_code == 2 and "names 2 workspaces" in str(caught.value)
    assert all(w.id in str(caught.value) for w in team)


def test_create_falls_back_to_the_profiles_default_workspace(
    cli: Cli, world: Any, platform: Any, tmp_path: Any
) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "settings.toml").write_text(
        f'[profiles.ci]\nurl = "{platform.url}"\n'
        f'default_workspace = "{world.workspace_name}"\n'
    )
    result = cli("--profile", "ci", "llm", "create", "--name", "from-profile", "--type",
                 "OPENAI", "--secret-env", "S", S="sk-x")
    assert result.exit_code == 0, result.output
    (item,) = _listed(cli, "--workspace", world.workspace_id)
    assert item["id"] == result.stdout.strip() and item["name"] == "from-profile"


def test_other_may_go_without_a_secret(cli: Cli, world: Any, provider: FakeProvider) -> None:
    created = cli("llm", "create", "--name", "ollama", "--type", "OTHER", "--endpoint",
                  provider.endpoint("anykey"), "--workspace", world.workspace_name)
    assert created.exit_code == 0, created.output
    result = cli("llm", "validate", created.stdout.strip())
    assert result.exit_code == 0 and result.stdout.startswith("VALID")
