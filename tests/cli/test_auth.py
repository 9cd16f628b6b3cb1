"""``login``, ``logout`` and ``auth status`` against the real local platform.

Each test has its own config dir and HOME and installs the keyring backend it is about: an
in-memory one (a desktop), ``fail`` (a headless SSH session), or one that hangs.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends import fail

from flashback_tui.cli import main
from flashback_tui.credentials import KEYRING_SERVICE
from flashback_tui.server import admin
from tests.support.keyrings import HangingKeyring, MemoryKeyring

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Account:
    """A user of the platform who signs in with a password."""

    email: str
    password: str


@pytest.fixture
def account(platform: Any, world: Any) -> Account:
    """A READ member of a fresh workspace, with a password (a canary: it must never show)."""
    email = f"login-{uuid.uuid4().hex[:8]}@example.test"
    password = f"pw-CANARY-{uuid.uuid4().hex}"
    admin.add_user(platform.data_dir, email, password)
    admin.add_member(platform.data_dir, world.workspace_id, email, "READ")
    return Account(email, password)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def run(cli_env: Callable[..., dict[str, str | None]], tmp_path: Path) -> Callable[..., Result]:
    """Run the CLI in-process with no URL or token in the environment (a fresh machine)."""

    def invoke(*args: str, input: str | None = None, **env: str | None) -> Result:
        environment = cli_env(url=None, token=None, HOME=str(tmp_path / "home"), **env)
        return CliRunner().invoke(main, list(args), input=input, env=environment,
                                  catch_exceptions=False)

    return invoke


def login(run: Callable[..., Result], url: str, account: Account, *extra: str,
          profile: str = "work") -> Result:
    return run("login", "--profile", profile, "--url", url, "--email", account.email,
               "--password-stdin", *extra, input=account.password + "\n")


def stored_document(backend: MemoryKeyring, profile: str = "work") -> dict[str, Any]:
    return json.loads(backend.values[(KEYRING_SERVICE, profile)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- login ------------------------------------------------------------------------------------


def test_login_keeps_the_tokens_in_the_keyring(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    backend = use_keyring(MemoryKeyring())
    result = login(run, platform.url, account)
    assert result.exit_code == 0, result.output
    assert f"Signed in to {platform.url} as {account.email} (profile 'work')" in result.stderr
    assert "Credential stored in: keyring (MemoryKeyring)" in result.stderr
    document = stored_document(backend)
    assert document["accessToken"] and document["refreshToken"]
    assert document["email"] == account.email and document["url"] == platform.url
    assert document["expiresAt"] > 0
    settings = (config_dir / "settings.toml").read_text()
    assert "[profiles.work]" in settings and platform.url in settings
    assert account.email in settings
    for text in (result.output, settings):
        assert account.password not in text and document["accessToken"] not in text
    assert not (config_dir / "credentials").exists()  # no plaintext anywhere

    # The stored credential is what the other commands use.
    listed = run("workspaces", "--profile", "work", "--json")
    assert listed.exit_code == 0, listed.output


def test_login_on_a_headless_machine_explains_the_choices(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    use_keyring(fail.Keyring())
    result = login(run, platform.url, account)
    assert result.exit_code == 1
    message = result.stderr
    assert "no usable OS keyring (backend: fail.Keyring)" in message
    assert "--insecure-storage" in message and "FLASHBACK_TOKEN" in message
    assert "PYTHON_KEYRING_BACKEND" in message and "Nothing was stored" in message
    assert not (config_dir / "credentials").exists()
    assert not (config_dir / "settings.toml").exists()
    assert account.password not in result.output


def test_login_with_insecure_storage_writes_a_private_file_and_remembers(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    use_keyring(fail.Keyring())
    result = login(run, platform.url, account, "--insecure-storage")
    assert result.exit_code == 0, result.output
    path = config_dir / "credentials" / "work.json"
    assert f"Credential stored in: file {path} (PLAINTEXT" in result.stderr
    assert "PLAINTEXT" in result.stderr  # the warning
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["email"] == account.email
    assert "insecure_storage = true" in (config_dir / "settings.toml").read_text()

    again = login(run, platform.url, account)  # the consent is remembered for the profile
    assert again.exit_code == 0, again.output
    assert run("workspaces", "--profile", "work").exit_code == 0


def test_a_wrong_password_is_exit_3_and_stores_nothing(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    backend = use_keyring(MemoryKeyring())
    result = run("login", "--profile", "work", "--url", platform.url, "--email", account.email,
                 "--password-stdin", input="not-the-password\n")
    assert result.exit_code == 3, result.output
    assert "flashback-tui login" not in result.output  # no advice to do what just failed
    assert "Hint: Check the e-mail address and password" in result.stderr
    assert backend.values == {}
    assert not (config_dir / "settings.toml").exists()


def test_an_invalid_email_is_a_usage_error(run, use_keyring, platform) -> None:
    use_keyring(MemoryKeyring())
    result = run("login", "--profile", "work", "--url", platform.url, "--email", "a",
                 "--password-stdin", input="pw-CANARY\n")
    assert result.exit_code == 2
    assert "email" in result.stderr and "pw-CANARY" not in result.output


def test_login_refuses_a_credentials_directory_others_can_read(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    use_keyring(fail.Keyring())
    (config_dir / "credentials").mkdir(parents=True, mode=0o755)
    (config_dir / "credentials").chmod(0o755)
    result = login(run, platform.url, account, "--insecure-storage")
    assert result.exit_code == 1
    assert f"chmod 700 {config_dir / 'credentials'}" in result.stderr
    assert "Nothing was stored" in result.stderr
    assert list((config_dir / "credentials").iterdir()) == []


def test_an_unreachable_platform_is_exit_7(run, use_keyring, account: Account) -> None:
    use_keyring(MemoryKeyring())
    result = login(run, f"http://127.0.0.1:{free_port()}", account)
    assert result.exit_code == 7, result.output


@pytest.mark.parametrize("option", ["--password", "--token", "--password=hunter2-CANARY"])
def test_secrets_in_argv_are_refused(run, use_keyring, platform, option: str) -> None:
    use_keyring(MemoryKeyring())
    args = ["login", "--url", platform.url, option]
    if "=" not in option:
        args.append("hunter2-CANARY")
    result = run(*args)
    assert result.exit_code == 2
    assert "process list" in result.stderr and "hunter2-CANARY" not in result.output
    assert "--password-stdin" in result.stderr


def test_without_a_terminal_the_password_must_come_from_stdin(
    run, use_keyring, platform, account: Account
) -> None:
    use_keyring(MemoryKeyring())
    result = run("login", "--profile", "work", "--url", platform.url, "--email", account.email)
    assert result.exit_code == 2
    assert "--password-stdin" in result.stderr


def test_login_with_a_token_from_stdin(run, use_keyring, platform, world) -> None:
    backend = use_keyring(MemoryKeyring())
    result = run("login", "--profile", "ci", "--url", platform.url, "--email",
                 world.emails["ADMIN"], "--token-stdin", input=world.tokens["ADMIN"] + "\n")
    assert result.exit_code == 0, result.output
    document = stored_document(backend, "ci")
    assert document["accessToken"] == world.tokens["ADMIN"] and document["refreshToken"] is None
    assert world.tokens["ADMIN"] not in result.output

    bad = run("login", "--profile", "ci2", "--url", platform.url, "--token-stdin",
              input="not-a-token\n")
    assert bad.exit_code == 3 and "flashback-tui login" not in bad.output
    assert (KEYRING_SERVICE, "ci2") not in backend.values


def test_the_local_profile_needs_no_login(run, use_keyring) -> None:
    use_keyring(MemoryKeyring())
    result = run("login")
    assert result.exit_code == 2
    assert "embedded local platform" in result.stderr and "--url URL" in result.stderr


def test_login_by_url_alone_names_the_profile_after_the_host(
    run, use_keyring, platform, account: Account
) -> None:
    use_keyring(MemoryKeyring())
    result = run("login", "--url", platform.url, "--email", account.email, "--password-stdin",
                 input=account.password)
    assert result.exit_code == 0, result.output
    host = platform.url.split("//", 1)[1].replace(":", "-")
    assert f"Saved profile '{host}'" in result.stderr
    assert f"--profile {host}" in result.stderr
    # The URL alone now finds that profile and its credential.
    assert run("workspaces", "--url", platform.url).exit_code == 0


# --- refresh ----------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_written_back(
    run, use_keyring, platform, account: Account
) -> None:
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import users as user_store

    backend = use_keyring(MemoryKeyring())
    assert login(run, platform.url, account).exit_code == 0
    document = stored_document(backend)
    with PlatformState.open(platform.data_dir) as state:
        conn = state.db.conn()
        user_id = user_store.user_by_email(conn, account.email)["id"]
        expired = user_store.issue_token(conn, user_id, "access", -60).token.get_secret_value()
    document["accessToken"] = expired
    backend.values[(KEYRING_SERVICE, "work")] = json.dumps(document)

    result = run("workspaces", "--profile", "work")
    assert result.exit_code == 0, result.output
    refreshed = stored_document(backend)
    assert refreshed["accessToken"] not in (expired, "")
    assert refreshed["refreshToken"] != document["refreshToken"]
    assert refreshed["expiresAt"] > document["expiresAt"] - 1
    assert refreshed["email"] == account.email
    assert run("workspaces", "--profile", "work").exit_code == 0  # the new tokens work


def test_refresh_writes_back_to_the_plaintext_file_when_that_is_the_store(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    use_keyring(fail.Keyring())
    assert login(run, platform.url, account, "--insecure-storage").exit_code == 0
    path = config_dir / "credentials" / "work.json"
    document = json.loads(path.read_text())
    document["accessToken"] = "expired-or-revoked"
    path.write_text(json.dumps(document))
    assert run("workspaces", "--profile", "work").exit_code == 0
    refreshed = json.loads(path.read_text())
    assert refreshed["accessToken"] != "expired-or-revoked"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- logout -----------------------------------------------------------------------------------


def test_logout_revokes_and_forgets(run, use_keyring, platform, account: Account) -> None:
    import asyncio

    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.errors import UnauthorizedError

    backend = use_keyring(MemoryKeyring())
    assert login(run, platform.url, account).exit_code == 0
    refresh_token = stored_document(backend)["refreshToken"]
    result = run("logout", "--profile", "work")
    assert result.exit_code == 0, result.output
    assert "Signed out" in result.stderr and "keyring (MemoryKeyring)" in result.stderr
    assert backend.values == {}

    async def try_refresh() -> None:
        async with FlashbackClient(platform.url, refresh_token=refresh_token) as client:
            await client.refresh()

    with pytest.raises(UnauthorizedError):
        asyncio.run(try_refresh())
    status = run("auth", "status", "--profile", "work")
    assert status.exit_code == 3 and "not signed in" in status.stdout


def test_logout_when_the_platform_is_unreachable_still_forgets(
    run, use_keyring, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from flashback_tui.credentials import StoredCredential, save_credential
    from flashback_tui.settings import Profile, save_profile

    backend = use_keyring(MemoryKeyring())
    url = f"http://127.0.0.1:{free_port()}"
    profile = Profile(name="gone", url=url)
    with monkeypatch.context() as patch:
        patch.setenv("FLASHBACK_CONFIG_DIR", str(config_dir))
        save_profile(profile)
        save_credential(profile, StoredCredential(SecretStr("a"), SecretStr("r"), 1, None, url),
                        insecure_storage=False)
    result = run("logout", "--profile", "gone")
    assert result.exit_code == 7
    assert "could not reach" in result.stderr
    assert backend.values == {}


# --- auth status ------------------------------------------------------------------------------


def test_status_for_each_storage_kind(
    run, use_keyring, platform, account: Account, config_dir: Path, world
) -> None:
    backend = use_keyring(MemoryKeyring())
    assert login(run, platform.url, account, profile="desk").exit_code == 0
    keyring.set_keyring(fail.Keyring())
    assert login(run, platform.url, account, "--insecure-storage",
                 profile="server").exit_code == 0
    keyring.set_keyring(backend)

    status = run("auth", "status")
    assert status.exit_code == 0, status.output
    blocks = {block.split()[0]: block for block in status.stdout.split("\n\n")}
    assert "stored:  embedded local admin" in blocks["local"]
    assert "(default)" in blocks["local"]
    assert f"url:     {platform.url}" in blocks["desk"]
    assert f"user:    {account.email}" in blocks["desk"]
    assert "stored:  keyring (MemoryKeyring)" in blocks["desk"]
    assert "expires: 20" in blocks["desk"] and "(in " in blocks["desk"]
    path = config_dir / "credentials" / "server.json"
    assert (f"stored:  file {path} (PLAINTEXT — readable by anyone with access to this "
            "account)") in blocks["server"]
    assert "warning: the token is stored in PLAINTEXT" in blocks["server"]
    assert account.password not in status.output

    as_json = run("auth", "status", "--json")
    assert as_json.exit_code == 0, as_json.output
    entries = {entry["profile"]: entry for entry in json.loads(as_json.stdout)}
    assert {name: (e["storage"], e["plaintext"], e["signedIn"]) for name, e in entries.items()} == {
        "local": ("embedded", False, True),
        "desk": ("keyring", False, True),
        "server": ("file", True, True),
    }
    assert entries["desk"]["user"] == account.email and entries["desk"]["canRefresh"] is True
    assert entries["server"]["where"].startswith(f"file {path}")

    from_env = run("auth", "status", "--profile", "desk", FLASHBACK_TOKEN=world.tokens["READ"])
    assert from_env.exit_code == 0
    assert "stored:  environment (FLASHBACK_TOKEN)" in from_env.stdout
    assert world.tokens["READ"] not in from_env.output


def test_status_of_a_profile_without_a_credential_is_exit_3(run, use_keyring, platform) -> None:
    use_keyring(fail.Keyring())
    result = run("auth", "status", "--url", platform.url)
    assert result.exit_code == 3
    assert "not signed in" in result.stdout and "fail.Keyring" in result.stdout


def test_status_with_a_hung_keyring_says_so_quickly(run, use_keyring, platform) -> None:
    backend = use_keyring(HangingKeyring())
    try:
        result = run("auth", "status", "--url", platform.url, FLASHBACK_KEYRING_TIMEOUT="0.2")
        assert result.exit_code == 3
        assert "did not answer within 0.2 s" in result.stdout
    finally:
        backend.release.set()


def test_status_refuses_a_world_readable_file(
    run, use_keyring, platform, account: Account, config_dir: Path
) -> None:
    use_keyring(fail.Keyring())
    assert login(run, platform.url, account, "--insecure-storage").exit_code == 0
    path = config_dir / "credentials" / "work.json"
    path.chmod(0o644)
    result = run("auth", "status", "--profile", "work")
    assert result.exit_code == 3
    assert f"chmod 600 {path}" in result.stdout
    listed = run("workspaces", "--profile", "work")
    assert listed.exit_code == 3 and "chmod 600" in listed.stderr


# --- real processes: PYTHON_KEYRING_BACKEND is respected --------------------------------------


def process(*args: str, env: dict[str, str], input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashback_tui", *args], env=env, input=input,
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=REPO_ROOT)


def process_env(tmp_path: Path, backend: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLASHBACK_", "PYTHON_KEYRING"))}
    env.update({
        "FLASHBACK_CONFIG_DIR": str(tmp_path / "config"),
        "HOME": str(tmp_path / "home"),
        "PYTHON_KEYRING_BACKEND": backend,
        "PYTHONPATH": str(REPO_ROOT),
        "FLASHBACK_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        **extra,
    })
    return env


def test_processes_use_the_keyring_backend_the_user_chose(
    tmp_path: Path, platform, account: Account
) -> None:
    env = process_env(tmp_path, "tests.support.keyrings.JsonFileKeyring")
    signed_in = process("login", "--profile", "work", "--url", platform.url, "--email",
                        account.email, "--password-stdin", env=env, input=account.password)
    assert signed_in.returncode == 0, signed_in.stderr
    assert "keyring (JsonFileKeyring)" in signed_in.stderr
    status = process("auth", "status", "--profile", "work", env=env)
    assert status.returncode == 0, status.stderr
    assert "stored:  keyring (JsonFileKeyring)" in status.stdout
    out = process("logout", "--profile", "work", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}


def test_processes_with_the_fail_backend_explain_the_choices(
    tmp_path: Path, platform, account: Account
) -> None:
    env = process_env(tmp_path, "keyring.backends.fail.Keyring")
    result = process("login", "--profile", "work", "--url", platform.url, "--email",
                     account.email, "--password-stdin", env=env, input=account.password)
    assert result.returncode == 1
    assert "--insecure-storage" in result.stderr and "Traceback" not in result.stderr
