"""``repo`` and ``key`` against the real local platform, and a key used through the gateway.

A key's secret is printed by ``key create`` only: every other command's output is checked
for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import openai
import pytest

from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import Cli

REPO_FIELDS = {"id", "name", "workspaceId", "storageType", "mode", "createdAt", "buckets",
               "aiLlms", "aiApiKeys"}
KEY_FIELDS = {"id", "name", "repoId", "key", "aiType", "createdAt", "deletedAt"}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def repo_with_llm(cli: Cli, world: Any, create_llm: Callable[..., str]) -> tuple[str, str]:
    """A repository ``docs-bot`` linked to one configuration: ``(repo_id, llm_id)``."""
    llm_id = create_llm("gw-config")
    made = ok(cli("repo", "create", "docs-bot", "--workspace", world.workspace_name,
                  "--llm", "gw-config"))
    return made.stdout.strip(), llm_id


def test_repo_create_list_show_update_delete(
    cli: Cli, world: Any, create_llm: Callable[..., str], repo_with_llm: tuple[str, str]
) -> None:
    repo_id, llm_id = repo_with_llm
    assert uuid.UUID(repo_id)
    (listed,) = as_json(cli("repo", "list", "--workspace", world.workspace_name, "--json"))
    assert REPO_FIELDS <= set(listed) and listed["id"] == repo_id
    assert (listed["storageType"], listed["mode"]) == ("S3", "NORMAL")
    assert [link["aiLlmId"] for link in listed["aiLlms"]] == [llm_id]
    shown = as_json(cli("repo", "show", "DOCS-BOT", "--json"))
    assert shown["id"] == repo_id
    table = ok(cli("repo", "list", "--workspace", world.workspace_id)).stdout
    assert "docs-bot" in table and "gw-config" in table

    other = create_llm("other-config")
    updated = ok(cli("repo", "update", "docs-bot", "--llm", other, "--name", "docs-bot-2"))
    assert updated.stdout == "" and "Updated repository" in updated.stderr
    shown = as_json(cli("repo", "show", repo_id, "--json"))
    assert shown["name"] == "docs-bot-2" and shown["storageType"] == "S3"
    assert [link["aiLlmId"] for link in shown["aiLlms"]] == [other]

    # The configuration no longer in use can go; unlink the other, and it can go too.
    assert ok(cli("llm", "delete", llm_id, "--yes"))
    assert cli("llm", "delete", other, "--yes").exit_code == ExitCode.FORBIDDEN
    ok(cli("repo", "update", repo_id, "--no-llm"))
    ok(cli("llm", "delete", "other-config", "--yes"))
    assert cli("repo", "delete", repo_id).exit_code == ExitCode.USAGE  # no --yes, no terminal
    deleted = ok(cli("repo", "delete", "docs-bot-2", "--yes"))
    assert deleted.stdout == "" and repo_id in deleted.stderr
    assert cli("repo", "show", repo_id).exit_code == ExitCode.NOT_FOUND


def test_repo_create_with_storage_options_and_errors(cli: Cli, world: Any) -> None:
    made = ok(cli("repo", "create", "mirror", "--workspace", world.workspace_name,
                  "--storage-type", "gcs", "--mode", "mirror"))
    shown = as_json(cli("repo", "show", made.stdout.strip(), "--json"))
    assert (shown["storageType"], shown["mode"], shown["aiLlms"]) == ("GCS", "MIRROR", [])
    missing = cli("repo", "create", "x", "--workspace", world.workspace_name, "--llm", "nope")
    assert missing.exit_code == ExitCode.NOT_FOUND and "no configuration" in missing.stderr
    long_name = cli("repo", "create", "n" * 256, "--workspace", world.workspace_name)
    assert long_name.exit_code == ExitCode.USAGE
    assert "--name is too long: at most 255 characters" in long_name.stderr
    assert cli("repo", "show", "nope").exit_code == ExitCode.NOT_FOUND
    read_only = cli.as_role(world.tokens["READ"])("repo", "create", "r", "--workspace",
                                                  world.workspace_name)
    assert read_only.exit_code == ExitCode.FORBIDDEN


def test_an_ambiguous_configuration_name_lists_ids_and_exits_2(
    cli: Cli, world: Any, platform: Any, create_llm: Callable[..., str]
) -> None:
    from flashback_tui.server import admin

    first = create_llm("twin-name")
    other_ws = admin.add_workspace(platform.data_dir, f"ws-{uuid.uuid4().hex[:8]}")
    admin.add_member(platform.data_dir, other_ws, world.emails["ADMIN"], "ADMIN")
    second = cli("llm", "create", "--name", "twin-name", "--type", "OTHER", "--endpoint",
                 "http://127.0.0.1:9/v1", "--workspace", other_ws).stdout.strip()
    result = cli("llm", "show", "twin-name")
    assert result.exit_code == ExitCode.USAGE and result.stdout == ""
    assert first in result.stderr and second in result.stderr
    assert as_json(cli("llm", "show", "twin-name", "--workspace", world.workspace_name,
                       "--json"))["id"] == first


def test_keys_secret_only_in_create_and_used_through_the_gateway(
    cli: Cli, world: Any, repo_with_llm: tuple[str, str]
) -> None:
    repo_id, _ = repo_with_llm
    outputs: list[str] = []

    def run(*args: str) -> Any:
        result = cli(*args)
        outputs.append(result.stdout + result.stderr)
        return result

    created = cli("key", "create", "docs-bot", "--name", "ci")
    assert created.exit_code == 0, created.stderr
    secret = created.stdout.strip()
    assert created.stdout == secret + "\n" and secret
    assert "not shown again" in created.stderr and secret not in created.stderr

    client = openai.OpenAI(base_url=f"{cli.url}/v1", api_key=secret, max_retries=0)
    answer = client.chat.completions.create(
        model="fake-gpt-small", messages=[{"role": "user", "content": "hello"}])
    assert answer.choices[0].message.content

    keys = as_json(run("key", "list", repo_id, "--json"))
    outputs.append(json.dumps(keys))
    (item,) = keys
    assert set(item) == KEY_FIELDS and item["deletedAt"] is None and item["name"] == "ci"
    ok(run("key", "list", "docs-bot"))
    ok(run("key", "rename", "docs-bot", "ci", "--name", "ci-2"))
    assert cli("key", "revoke", "docs-bot", "ci-2").exit_code == ExitCode.USAGE
    ok(run("key", "revoke", "docs-bot", "ci-2", "--yes"))
    (item,) = as_json(run("key", "list", repo_id, "--json"))
    assert item["name"] == "ci-2" and item["deletedAt"] is not None
    table = ok(run("key", "list", repo_id)).stdout
    assert "revoked" in table
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="fake-gpt-small",
                                       messages=[{"role": "user", "content": "hello"}])
    assert cli("key", "revoke", repo_id, "ci-2", "--yes").exit_code == ExitCode.NOT_FOUND

    for args in (("repo", "list", "--json"), ("repo", "show", repo_id, "--json"),
                 ("repo", "show", repo_id), ("repo", "list"), ("llm", "list", "--json"),
                 ("events", "--json", "--limit", "200"), ("events",)):
        ok(run(*args))
    for text in outputs:
        assert secret not in text


def test_key_create_for_an_unknown_repository_is_exit_4(cli: Cli) -> None:
    result = cli("key", "create", "no-such-repo", "--name", "x")
    assert result.exit_code == ExitCode.NOT_FOUND and result.stdout == ""
