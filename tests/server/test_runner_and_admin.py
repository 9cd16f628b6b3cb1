"""The embedded server's life cycle and the ``admin`` / ``serve`` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from flashback_tui.cli import main
from flashback_tui.net import is_loopback
from flashback_tui.server.runner import LocalServer, LocalServerError
from tests.support.fake_provider import FakeProvider


def run_cli(*args: str, input: str | None = None) -> Any:
    """The command line in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def admin_in_process(data_dir: Path, *args: str, input: str | None = None) -> Any:
    return run_cli("admin", *args, "--data-dir", str(data_dir), input=input)


def admin_cli(data_dir: Path, *args: str, input: str | None = None
              ) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as a script would run it."""
    return subprocess.run(
        [sys.executable, "-m", "flashback_tui", "admin", *args, "--data-dir", str(data_dir)],
        input=input, capture_output=True, text=True, timeout=60, check=False,
    )


def get(url: str, path: str, token: str) -> httpx.Response:
    return httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


# -- LocalServer -----------------------------------------------------------------------------


def test_restart_reuses_the_port_and_keeps_the_data(tmp_path: Path) -> None:
    server = LocalServer(tmp_path / "data")
    server.start()
    try:
        first_url, first_token = server.url, server.admin_token.get_secret_value()
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert repr(server.admin_token) == "SecretStr('**********')"
        # The token came through the pipe: it is in neither the child's argv nor its env.
        for leak in ("cmdline", "environ"):
            assert first_token.encode() not in Path(f"/proc/{server.pid}/{leak}").read_bytes()
        workspaces = get(server.url, "/workspace", first_token).json()["workspaces"]
        assert [w["name"] for w in workspaces] == ["Default"]
        server.stop()
        assert not server.running
        with pytest.raises(httpx.ConnectError):
            get(first_url, "/workspace", first_token)
        server.start()
        assert server.url == first_url
        second_token = server.admin_token.get_secret_value()
        assert second_token != first_token
        # The first token was stored (hashed) and still works after a restart.
        assert get(server.url, "/workspace", first_token).status_code == 200
        assert get(server.url, "/workspace", second_token).json()["workspaces"] == workspaces
    finally:
        server.stop()


def test_requests_sent_before_the_app_serves_wait_and_are_answered(tmp_path: Path) -> None:
    """start(wait_serving=False) returns once the child listens; early requests queue."""
    server = LocalServer(tmp_path / "data")
    server.start(wait_serving=False)
    try:
        token = server.admin_token.get_secret_value()
        workspaces = get(server.url, "/workspace", token).json()["workspaces"]
        assert [w["name"] for w in workspaces] == ["Default"]
        server.wait_serving()
        assert server.running
    finally:
        server.stop()


def test_the_child_exits_when_its_parent_goes_away(tmp_path: Path) -> None:
    """The parent dies without stop(): the child sees EOF on stdin and exits by itself."""
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from flashback_tui.server.runner import LocalServer\n"
        "s = LocalServer(Path(sys.argv[1]))\n"
        "s.start()\n"
        "print(json.dumps({'pid': s.pid, 'url': s.url}), flush=True)\n"
        "import os; os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=60, check=True)
    child = json.loads(out.stdout)
    for _ in range(100):
        try:
            os.kill(child["pid"], 0)
        except ProcessLookupError:
            break
        _wait(0.05)
    else:
        os.kill(child["pid"], 9)
        pytest.fail("the embedded server outlived its parent")


def _wait(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_a_start_failure_reports_the_server_log(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        clash = LocalServer(tmp_path / "data", port=busy.getsockname()[1])
        with pytest.raises(LocalServerError, match="failed to start") as caught:
            clash.start(timeout=20)
    assert "Address already in use" in str(caught.value)  # the tail of the server's log
    assert not clash.running


@pytest.mark.no_database
def test_a_bad_setting_is_said_once_per_start_in_plain_words(tmp_path: Path) -> None:
    server = LocalServer(tmp_path / "data", env={"FLASHBACK_WORKER_THREADS": "abc"})
    for _ in range(2):  # the log keeps both starts; the message names only the latest
        with pytest.raises(LocalServerError) as caught:
            server.start(timeout=20)
        assert str(caught.value) == (
            "the local server failed to start:\n"
            "FLASHBACK_WORKER_THREADS must be a whole number. Unset it to use its default.")
    assert server.log_path.read_text().count("FLASHBACK_WORKER_THREADS") == 2


def test_serve_runs_in_the_foreground_until_interrupted(tmp_path: Path) -> None:
    import signal

    data_dir = tmp_path / "fg"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flashback_tui", "serve", "--port", "0", "--data-dir",
         str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Flashback local platform listening on http://127.0.0.1:")
        url = first.split(" on ", 1)[1].strip()
        assert httpx.get(url + "/workspace", timeout=10).status_code == 401
        token = admin_cli(data_dir, "token", "create", "admin@localhost").stdout.strip()
        assert get(url, "/workspace", token).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def test_serve_refuses_a_remote_host_without_allow_remote(tmp_path: Path) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path))
    assert result.exit_code != 0
    assert "--allow-remote" in result.output
    assert not (tmp_path / "flashback.db").exists()


def test_serve_warns_before_listening_on_a_remote_host(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is never assigned here, so binding fails after the warning.
    result = run_cli("serve", "--host", "192.0.2.1", "--port", "0", "--allow-remote",
                     "--data-dir", str(tmp_path / "data"))
    assert "NOT encrypted" in result.stderr
    assert result.exit_code == 1 and "cannot listen on 192.0.2.1:0" in result.stderr


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.5", True),
    ("0.0.0.0", False), ("192.168.1.4", False), ("example.test", False),
])
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- admin commands --------------------------------------------------------------------------


def test_admin_commands_bootstrap_a_team_while_the_server_runs(platform: Any) -> None:
    data_dir = platform.data_dir
    tag = uuid.uuid4().hex[:8]
    email, workspace = f"ops-{tag}@example.test", f"team-{tag}"

    empty = admin_in_process(data_dir, "user", "add", email, "--password-stdin", input="")
    assert empty.exit_code == 1 and "no password on stdin" in empty.stderr
    added = admin_cli(data_dir, "user", "add", email, "--password-stdin", input="s3cret pass\n")
    assert added.returncode == 0, added.stderr
    assert "s3cret" not in added.stdout + added.stderr

    assert admin_in_process(data_dir, "workspace", "add", workspace).exit_code == 0
    member = admin_in_process(data_dir, "member", "add", workspace, email, "--role", "write")
    assert member.exit_code == 0, member.stderr

    token = admin_cli(data_dir, "token", "create", email)
    assert token.returncode == 0 and token.stderr == ""
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fba_")
    listed = get(platform.url, "/workspace", lines[0]).json()["workspaces"]
    assert [(w["name"], w["users"][0]["role"]) for w in listed] == [(workspace, "WRITE")]

    login = httpx.post(platform.url + "/user/login",
                       json={"email": email, "password": "s3cret pass"}, timeout=10)
    assert login.status_code == 200


@pytest.mark.parametrize(("args", "message", "code"), [
    (("token", "create", "ghost@example.test"), "no user with email ghost@example.test", 4),
    (("member", "add", "no-such-ws", "admin@localhost", "--role", "READ"), "no workspace", 4),
    (("member", "add", "Default", "ghost@example.test", "--role", "READ"), "no user", 4),
    (("member", "remove", "Default", "ghost@example.test"), "no user", 4),
    (("member", "remove", "Default", "admin@localhost"), "last ADMIN of workspace Default", 5),
    (("repo", "add", "r", "--workspace", "Default", "--llm", "nope"),
     "no AI LLM configuration nope", 4),
    (("user", "add", "admin@localhost"), "already exists", 1),
    (("user", "add", "not-an-email"), "email: must be an email address", 2),
    (("workspace", "add", "Default"), "already exists", 1),
    (("workspace", "add", "DEFAULT"), "already exists", 1),
])
def test_admin_errors_are_clear_and_exit_with_the_documented_code(
        platform: Any, args: tuple[str, ...], message: str, code: int) -> None:
    result = admin_in_process(platform.data_dir, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("given", "expected"), [
    ((), 0), (("--org-role", "owner"), 255), (("--org-role", "ADMINISTRATORS"), 254),
    (("--org-role", "2"), 2), (("--org-role", "BILLING"), 1),
])
def test_user_add_takes_an_org_role_by_name_or_number(platform: Any, given: tuple[str, ...],
                                                      expected: int) -> None:
    email = f"role-{uuid.uuid4().hex[:8]}@example.test"
    added = admin_in_process(platform.data_dir, "user", "add", email, *given)
    assert added.exit_code == 0, added.stderr
    user_id = added.stdout.strip()
    token = admin_in_process(platform.data_dir, "token", "create", email).stdout.strip()
    me = get(platform.url, "/user/profile", token).json()["data"]
    assert (me["id"], me["orgRole"], me["orgRoles"]) == (user_id, expected, [expected])


@pytest.mark.parametrize("role", ["GOD", "3", "-1", "256"])
def test_an_unknown_org_role_is_a_usage_error(platform: Any, role: str) -> None:
    result = admin_in_process(platform.data_dir, "user", "add", "x@example.test",
                              "--org-role", role)
    assert result.exit_code == 2 and "--org-role" in result.stderr
    assert "OWNER" in result.stderr


def test_member_remove_takes_a_member_out(platform: Any, world: Any) -> None:
    removed = admin_in_process(platform.data_dir, "member", "remove", world.workspace_name,
                               world.emails["READ"])
    assert removed.exit_code == 0, removed.stderr
    assert get(platform.url, f"/workspace/{world.workspace_id}",
               world.tokens["READ"]).status_code == 404
    again = admin_in_process(platform.data_dir, "member", "remove", world.workspace_name,
                             world.emails["READ"])
    assert again.exit_code == 4 and "not a member" in again.stderr


def test_member_role_is_checked(platform: Any) -> None:
    result = admin_in_process(platform.data_dir, "member", "add", "Default", "admin@localhost",
                              "--role", "OWNER")
    assert result.exit_code == 2 and "OWNER" in result.stderr


def test_repo_add_links_and_rotate_key_keeps_validation_working(platform: Any,
                                                                world: Any) -> None:
    secret = "sk-rotate-" + uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {world.tokens['WRITE']}"}
    with FakeProvider(valid_keys={secret}) as provider, httpx.Client(
            base_url=platform.url, headers=headers, timeout=10) as http:
        llm_id = http.post("/ai/llm", json={
            "name": "rotating", "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
            "secret": secret, "workspaceId": world.workspace_id}).json()["aiLlmId"]

        linked = admin_in_process(platform.data_dir, "repo", "add", "docs-bot", "--workspace",
                                  world.workspace_name, "--llm", llm_id)
        assert linked.exit_code == 0, linked.stderr
        (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id}
                          ).json()["aiLlms"]
        assert [r["name"] for r in llm["repos"]] == ["docs-bot"]
        assert http.delete(f"/ai/llm/{llm_id}").status_code == 403

        rotated = admin_in_process(platform.data_dir, "rotate-key")
        assert rotated.exit_code == 0, rotated.stderr
        assert "re-sealed" in rotated.stderr and rotated.stdout == ""

        # The running server opens the re-sealed secret and the provider accepts it.
        answer = http.post(f"/ai/llm/{llm_id}/validate").json()
        assert answer["success"] is True, answer["message"]
        # And seals new values under the new key.
        assert http.put(f"/ai/llm/{llm_id}", json={"secret": secret + "x"}).status_code == 200
        assert http.put(f"/ai/llm/{llm_id}", json={"secret": secret}).status_code == 200
        assert http.post(f"/ai/llm/{llm_id}/validate").json()["success"] is True
