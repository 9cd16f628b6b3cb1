"""The CLI's checks that run before any request: argv secrets, stdin format, arguments.

None of these needs a platform: every case must stop with a usage error (exit 2) before a
connection is attempted, which the unreachable URL below would turn into exit 7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from flashback_tui.api import errors
from flashback_tui.api.models import AiType, Workspace
from flashback_tui.cli import main
from flashback_tui.commands.common import ExitCode, exit_code_for
from flashback_tui.commands.llm import pick_workspace
from flashback_tui.commands.output import clean, display_width, render_table
from tests.support.fake_provider import closed_port_url

#: The installed console script (completion keys off the program name).
COMMAND = str(Path(sys.executable).with_name("flashback-tui"))
ID = "550e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def offline(cli_env: Callable[..., Any]) -> Callable[..., Any]:
    """Run the CLI in-process against a closed port (any request would exit 7)."""

    def run(*args: str, input: str | None = None, **env: str) -> Any:
        environment = cli_env(url=closed_port_url(""), token="t", **env)
        return CliRunner().invoke(main, list(args), input=input, env=environment,
                                  catch_exceptions=False)

    return run


@pytest.mark.parametrize("option", ["--secret", "--key", "--api-key", "--password", "--token"])
def test_secret_valued_options_are_refused_without_echoing_the_value(
    offline: Any, option: str, canary: str
) -> None:
    for args in ([option, canary], [f"{option}={canary}"]):
        result = offline("llm", "create", "--name", "n", "--type", "OPENAI", *args)
        assert result.exit_code == ExitCode.USAGE
        assert f"{option} is not accepted" in result.stderr
        assert "process list" in result.stderr
        assert canary not in result.output


def test_refused_option_explains_the_safe_alternatives(offline: Any, canary: str) -> None:
    result = offline("llm", "rotate", ID, "--secret", canary)
    assert "--secret-stdin" in result.stderr and "--secret-env VAR" in result.stderr
    result = offline("llm", "--token", canary, "list")
    assert result.exit_code == ExitCode.USAGE
    assert "FLASHBACK_TOKEN" in result.stderr and canary not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--secret-stdin"], "", "--secret-stdin: standard input must hold the secret"),
        (["--secret-stdin"], "key\nsecret\n", "got 2 non-empty line(s)"),
        (["--key-stdin", "--secret-stdin"], "only-one\n", "the key on the first line"),
        (["--secret-stdin", "--secret-env", "X"], "s\n", "either --secret-stdin or"),
        (["--secret-env", "FLASHBACK_TEST_UNSET"], None, "FLASHBACK_TEST_UNSET is not set"),
        ([], None, "a secret is required"),
    ],
)
def test_secret_sources_are_checked_locally(
    offline: Any, args: list[str], stdin: str | None, message: str
) -> None:
    result = offline("llm", "create", "--name", "n", "--type", "OPENAI", "--workspace", "w",
                     *args, input=stdin)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert message in result.stderr


def test_an_oversized_secret_is_refused_by_the_model_rule(offline: Any) -> None:
    result = offline("llm", "create", "--name", "n", "--type", "OPENAI", "--workspace", "w",
                     "--secret-stdin", input="x" * 9000)
    assert result.exit_code == ExitCode.USAGE
    assert "--secret-stdin/--secret-env must be at most 8192 characters" in result.stderr
    assert "xxxxxxxx" not in result.stderr
    flood = offline("llm", "create", "--name", "n", "--type", "OPENAI", "--workspace", "w",
                    "--secret-stdin", input="y" * 100_000)
    assert flood.exit_code == ExitCode.USAGE
    assert "standard input is longer than" in flood.stderr and "yyyy" not in flood.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llm", "create", "--name", " ", "--type", "OPENAI", "--secret-env", "S"],
         "--name must not be empty"),
        (["llm", "create", "--name", "n", "--type", "OPENAI", "--endpoint", "ftp://h",
          "--secret-env", "S"], "--endpoint: endpoint must be an http:// or https:// URL"),
        (["llm", "create", "--name", "n", "--type", "OTHER"], "--endpoint is required"),
        (["llm", "create", "--name", "n", "--type", "GPT"], "'GPT' is not one of OPENAI"),
        (["llm", "create", "--name", "n", "--type", "AWS", "--secret-env", "S"],
         "--type AWS needs the access key id"),
        (["llm", "update", ID], "nothing to update"),
        (["llm", "update", ID, "--endpoint", "https://"], "--endpoint: endpoint must include"),
        (["llm", "show", " "], "must not be empty"),
        (["llm", "create", "--name", "n" * 256, "--type", "OPENAI", "--secret-env", "S"],
         "--name is too long: at most 255 characters"),
        (["llm", "validate"], "give configuration ids or names, or --all"),
        (["llm", "validate", ID, "--all"], "give configuration ids or names, or --all"),
        (["llm", "validate", "--all", "--concurrency", "0"], "--concurrency"),
        (["llm", "list", "--json", "--csv"], "choose one of --json and --csv"),
        (["llm", "delete", ID], "pass --yes"),
        (["--url", "ftp://x", "llm", "list"], "--url / FLASHBACK_URL"),
        (["llm", "list", "--url", "not a url"], "--url / FLASHBACK_URL"),
    ],
)
def test_bad_arguments_are_usage_errors_before_any_request(
    offline: Any, args: list[str], message: str
) -> None:
    result = offline(*args, input="", S="sk-value")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert message in result.stderr


def test_read_only_refuses_writes(offline: Any) -> None:
    result = offline("--read-only", "llm", "delete", ID, "--yes")
    assert result.exit_code == ExitCode.FORBIDDEN
    assert "read-only" in result.stderr


def test_type_is_case_insensitive_and_completes_from_the_model() -> None:
    from flashback_tui.commands.llm import AI_TYPE

    assert AI_TYPE.convert("anthropic", None, None) is AiType.ANTHROPIC
    items = AI_TYPE.shell_complete(click.Context(click.Command("x")), click.Option(["--t"]), "a")
    assert [item.value for item in items] == ["ANTHROPIC", "AWS"]


def test_shell_completion_works_through_the_lazy_group(run_process: Callable[..., Any]) -> None:
    def complete(words: str, cword: int) -> list[str]:
        done = run_process(program=COMMAND, COMP_WORDS=words, COMP_CWORD=str(cword),
                           _FLASHBACK_TUI_COMPLETE="bash_complete")
        assert done.returncode == 0, done.stderr
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert "llm" in complete("flashback-tui l", 1)
    assert complete("flashback-tui llm va", 2) == ["validate"]
    assert complete("flashback-tui llm create --type O", 4) == ["OPENAI", "OTHER"]


def test_exit_codes_are_distinct_per_error_kind() -> None:
    cases = {
        errors.UnauthorizedError: ExitCode.AUTHENTICATION,
        errors.NotFoundError: ExitCode.NOT_FOUND,
        errors.ForbiddenError: ExitCode.FORBIDDEN,
        errors.BadRequestError: ExitCode.USAGE,
        errors.FlashbackConnectionError: ExitCode.UNREACHABLE,
        errors.FlashbackTimeoutError: ExitCode.UNREACHABLE,
        errors.ServerError: ExitCode.FAILURE,
        errors.UnexpectedResponseError: ExitCode.FAILURE,
    }
    for cls, code in cases.items():
        assert exit_code_for(cls("x")) == code, cls
    assert sorted(int(code) for code in ExitCode) == list(range(8))


def test_workspace_names_resolve_and_ambiguity_lists_the_ids() -> None:
    spaces = [Workspace(id="w1", name="Team"), Workspace(id="w2", name="Team"),
              Workspace(id="w3", name="Ops")]
    assert pick_workspace(spaces, "w2").id == "w2"
    assert pick_workspace(spaces, "ops").id == "w3"
    with pytest.raises(click.ClickException, match="w1  Team\n  w2  Team") as twice:
        pick_workspace(spaces, "Team")
    assert twice.value.exit_code == ExitCode.USAGE
    with pytest.raises(click.ClickException) as caught:
        pick_workspace(spaces, "nope")
    assert caught.value.exit_code == ExitCode.NOT_FOUND


def test_tables_align_wide_characters_and_escape_control_characters() -> None:
    lines = render_table(["ID", "NAME", "N"], [["a", "日本語", 1], ["bb", "x\x1b[31m", 22]],
                         right=[2])
    assert lines == [
        "ID  NAME        N",
        "a   日本語      1",
        "bb  x\\x1b[31m  22",
    ]
    assert {display_width(line) for line in lines} == {17}
    assert clean(None) == "-" and clean("e\u0301") == "e\u0301"
    assert display_width("e\u0301") == 1


def test_loading_the_commands_imports_neither_the_client_nor_pydantic() -> None:
    code = ("import json, sys, flashback_tui.cli, flashback_tui.commands.llm; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    loaded = set(json.loads(out))
    for heavy in ("httpx", "pydantic", "flashback_tui.api.client", "flashback_tui.connect"):
        assert heavy not in loaded, heavy
