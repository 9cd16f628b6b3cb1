"""The CLI as a real process: argv and environment free of secrets, exit statuses a shell sees."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import process_env
from tests.support.fake_provider import FakeProvider, closed_port_url

Run = Callable[..., subprocess.CompletedProcess[str]]


def _exec_argv(proc_dir: Path, marker: bytes, timeout: float = 10.0) -> list[bytes]:
    """The argv of a just-spawned process once it has exec'd (``marker`` is one of its args).

    Between fork and exec the cmdline is empty or still the parent's.
    """
    deadline = time.monotonic() + timeout
    while True:
        argv = (proc_dir / "cmdline").read_bytes().split(b"\0")
        if marker in argv or time.monotonic() > deadline:
            return argv
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_secret_piped_to_create_never_reaches_argv_environ_or_output(
    platform: Any, world: Any, provider: FakeProvider, cli_env: Callable[..., Any], canary: str
) -> None:
    args = [sys.executable, "-m", "flashback_tui", "llm", "create", "--name", "piped",
            "--type", "OPENAI", "--endpoint", provider.endpoint("echo"), "--workspace",
            world.workspace_name, "--secret-stdin"]
    env = process_env(cli_env(url=platform.url, token=world.tokens["ADMIN"]))
    with subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        # The process is running and waiting for stdin: look at what others could see
        # (once it has exec'd; between fork and exec its cmdline is still empty).
        proc_dir = Path(f"/proc/{proc.pid}")
        argv = _exec_argv(proc_dir, b"--secret-stdin")
        environ = (proc_dir / "environ").read_bytes()
        out, err = proc.communicate(canary + "\n", timeout=60)
    assert argv[:3] == [a.encode() for a in args[:3]] and b"--secret-stdin" in argv
    assert canary.encode() not in b"".join(argv) and canary.encode() not in environ
    assert proc.returncode == 0, err
    llm_id = out.strip()
    assert uuid.UUID(llm_id) and canary not in out + err

    # Validation with a provider that echoes credentials: the message is scrubbed.
    done = subprocess.run([*args[:3], "llm", "validate", llm_id, "--json"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == ExitCode.VALIDATION_FAILED, done.stderr
    assert '"status": "INVALID"' in done.stdout
    assert canary not in done.stdout + done.stderr


def test_a_secret_in_argv_is_refused_by_the_real_process(run_process: Run, canary: str) -> None:
    done = run_process("llm", "rotate", str(uuid.uuid4()), "--secret", canary,
                       url=closed_port_url(""), token="t")
    assert done.returncode == ExitCode.USAGE
    assert "--secret is not accepted" in done.stderr and "--secret-stdin" in done.stderr
    assert canary not in done.stdout + done.stderr


def test_exit_statuses_of_a_real_process(
    run_process: Run, platform: Any, world: Any
) -> None:
    token = world.tokens["ADMIN"]
    ok = run_process("llm", "list", url=platform.url, token=token)
    assert ok.returncode == 0, ok.stderr
    bad_token = run_process("llm", "list", url=platform.url, token="expired-or-wrong")
    assert bad_token.returncode == ExitCode.AUTHENTICATION
    missing = run_process("llm", "show", str(uuid.uuid4()), url=platform.url, token=token)
    assert missing.returncode == ExitCode.NOT_FOUND
    assert missing.stderr.startswith("Error: no configuration named or with id")


def test_a_dead_backend_exits_7_with_a_hint(run_process: Run) -> None:
    dead = closed_port_url("")
    done = run_process("workspaces", url=dead, token="t")
    assert done.returncode == ExitCode.UNREACHABLE, done.stderr
    assert "Error: cannot reach" in done.stderr
    assert "Hint: Check that the backend is running" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_silent_backend_exits_7_within_the_timeout(run_process: Run) -> None:
    """A platform that accepts connections and never answers: --timeout bounds the wait."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        done = run_process("workspaces", "--timeout", "0.5", url=url, token="t")
        waited = time.monotonic() - started
    assert done.returncode == ExitCode.UNREACHABLE, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert waited < 20  # the client's own default is 30 s per try


def _answer_on_a_terminal(args: list[str], env: dict[str, str], answer: bytes) -> tuple[int, str]:
    """Run ``args`` with a pseudo-terminal as stdin/stdout, answer its question; (status, text)."""
    import os
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(args[0], args, env)
    seen, answered, deadline = b"", False, time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(fd, answer)
            answered = True
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_delete_asks_on_a_terminal(
    platform: Any, world: Any, cli_env: Callable[..., Any], create_llm: Callable[..., str]
) -> None:
    llm_id = create_llm("asked")
    env = process_env(cli_env(url=platform.url, token=world.tokens["ADMIN"]))
    args = [sys.executable, "-m", "flashback_tui", "llm", "delete", llm_id]

    status, text = _answer_on_a_terminal(args, env, b"n\n")
    assert f"Delete asked ({llm_id}) for good? [y/N]" in text
    assert status == ExitCode.FAILURE and "nothing deleted" in text

    status, text = _answer_on_a_terminal(args, env, b"y\n")
    assert status == 0 and f"Deleted {llm_id} (" in text
