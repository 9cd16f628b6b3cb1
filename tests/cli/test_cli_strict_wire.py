"""The CLI on the hosted platform's shapes: a local platform in strict-wire mode.

Strict-wire answers carry no local validation fields, so ``llm list`` takes a configuration's
state from ``/ai/llm/available`` (VALID) or says UNKNOWN; ``validate`` reports the verdict.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashback_tui.server import admin
from tests.cli.conftest import GOOD_KEY, Cli
from tests.support.tui_session import strict_wire_platform

PASSWORD = "a-long-enough-password"


@pytest.fixture(scope="module")
def strict_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("strict-cli")
    with strict_wire_platform(data_dir) as server:
        yield server.url, data_dir


def test_sign_in_list_create_validate_rotate_delete(strict_dir, cli_env, provider) -> None:
    url, data_dir = strict_dir
    tag = uuid.uuid4().hex[:8]
    email, workspace = f"cli-{tag}@example.test", f"ws-{tag}"
    admin.add_user(data_dir, email, PASSWORD, name="Cli")
    admin.add_workspace(data_dir, workspace)
    admin.add_member(data_dir, workspace, email, "WRITE")
    cli = Cli(url, None, cli_env)
    signed_in = cli("login", "--url", url, "--email", email, "--password-stdin",
                    "--insecure-storage", input=PASSWORD + "\n")
    assert signed_in.exit_code == 0, signed_in.output

    created = cli("llm", "create", "--name", "Hosted", "--type", "OPENAI", "--endpoint",
                  provider.endpoint("ok"), "--workspace", workspace, "--secret-stdin",
                  input=GOOD_KEY + "\n")
    assert created.exit_code == 0, created.output
    llm_id = created.stdout.strip()

    listed = cli("llm", "list", "--workspace", workspace)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith(llm_id))
    assert "UNKNOWN" in row.split()

    validated = cli("llm", "validate", llm_id)
    assert validated.exit_code == 0, validated.output
    assert validated.stdout.startswith("VALID")
    listed = cli("llm", "list", "--workspace", workspace)
    row = next(line for line in listed.stdout.splitlines() if line.startswith(llm_id))
    assert "VALID" in row.split()  # from /ai/llm/available: no validationStatus was sent

    rotated = cli("llm", "rotate", llm_id, "--secret-stdin", "--validate",
                  input="sk-rotated-but-wrong\n")
    assert "INVALID" in rotated.stdout, rotated.output
    deleted = cli("llm", "delete", llm_id, "--yes")
    assert deleted.exit_code == 0, deleted.output
    listed = cli("llm", "list", "--workspace", workspace, "--json")
    assert llm_id not in listed.stdout
