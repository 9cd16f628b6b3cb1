"""Fixtures of the command-line tests: run the CLI in-process or as a real process.

Both ways point the CLI at a platform with ``FLASHBACK_URL`` + ``FLASHBACK_TOKEN`` and an
empty ``FLASHBACK_CONFIG_DIR``, the way a script on a fresh machine would. In-process runs
(click's CliRunner) are fast; real processes prove what a shell sees (argv, exit status).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from flashback_tui.cli import main
from tests.support.fake_provider import FakeProvider

#: The key FakeProvider accepts in these tests.
GOOD_KEY = "sk-good-0123456789"

#: Variables a developer's shell may hold that would change what the CLI talks to.
_CLEARED = ("FLASHBACK_URL", "FLASHBACK_TOKEN", "FLASHBACK_PROFILE", "FLASHBACK_DATA_DIR")


@pytest.fixture
def canary() -> str:
    """A secret that must never appear in any output, message or argv."""
    return f"sk-CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def cli_env(tmp_path: Path) -> Callable[..., dict[str, str | None]]:
    """Build the environment of one CLI run: ``cli_env(url=..., token=..., **extra)``."""

    def build(*, url: str | None = None, token: str | None = None,
              **extra: str | None) -> dict[str, str | None]:
        env: dict[str, str | None] = dict.fromkeys(_CLEARED)
        env.update({
            "FLASHBACK_CONFIG_DIR": str(tmp_path / "config"),
            "FLASHBACK_DATA_DIR": str(tmp_path / "data"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "FLASHBACK_URL": url,
            "FLASHBACK_TOKEN": token,
        })
        env.update(extra)
        return env

    return build


@dataclass
class Cli:
    """Runs ``flashback-tui`` in-process as one user of a platform."""

    url: str
    token: str | None
    env_for: Callable[..., dict[str, str | None]]

    def __call__(self, *args: str, input: str | None = None, token: str | None = None,
                 url: str | None = None, **env: str | None) -> Result:
        environment = self.env_for(url=url or self.url, token=token or self.token, **env)
        return CliRunner().invoke(main, list(args), input=input, env=environment,
                                  catch_exceptions=False)

    def as_role(self, token: str) -> Cli:
        """The same CLI signed in with another token."""
        return Cli(self.url, token, self.env_for)


@pytest.fixture
def cli(platform: Any, world: Any, cli_env: Callable[..., Any]) -> Cli:
    """The CLI as the ADMIN member of a fresh workspace (``world``)."""
    return Cli(platform.url, world.tokens["ADMIN"], cli_env)


@pytest.fixture
def run_process(cli_env: Callable[..., Any]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m flashback_tui ARGS`` (or ``program``) as a real process, to the end."""

    def run(*args: str, url: str | None = None, token: str | None = None,
            input: str | None = None, program: str | None = None,
            **extra: str | None) -> subprocess.CompletedProcess[str]:
        command = [program] if program else [sys.executable, "-m", "flashback_tui"]
        return subprocess.run(
            [*command, *args],
            env=process_env(cli_env(url=url, token=token, **extra)),
            input=input, capture_output=True, text=True, timeout=60, check=False,
        )

    return run


def process_env(overrides: dict[str, str | None]) -> dict[str, str]:
    """``os.environ`` with ``overrides`` applied (None removes a variable)."""
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.fixture(scope="session")
def provider() -> Iterator[FakeProvider]:
    """One loopback provider stand-in for the whole run; scenarios pick the behaviour."""
    with FakeProvider(valid_keys={GOOD_KEY}) as fake:
        yield fake


@pytest.fixture
def create_llm(cli: Cli, world: Any, provider: FakeProvider) -> Callable[..., str]:
    """Create a configuration through ``llm create``; returns its id."""

    def create(name: str | None = None, *, secret: str = GOOD_KEY, scenario: str = "ok",
               ai_type: str = "OPENAI", endpoint: str | None = None) -> str:
        result = cli("llm", "create", "--name", name or f"cfg-{uuid.uuid4().hex[:8]}",
                     "--type", ai_type, "--endpoint", endpoint or provider.endpoint(scenario),
                     "--workspace", world.workspace_name, "--secret-stdin", input=secret + "\n")
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip()

    return create
