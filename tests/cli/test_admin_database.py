"""``serve --database-url``, ``admin migrate`` and ``admin key new`` as a shell sees them.

Every database URL here carries a password (PostgreSQL's test server trusts its socket, so it
is ignored there): it must never reach the output. A bad URL is a usage error (2); a database
that does not answer is a failure (1); neither ever shows a traceback or the driver's words.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from flashback_tui.commands.common import ExitCode
from flashback_tui.server.db import Database
from flashback_tui.server.migrations import HEAD, upgrade
from tests.cli.conftest import process_env
from tests.support.postgres import TEST_MASTER_KEY, fresh_database_url

#: The password every URL of these tests carries.
PASSWORD = "pw-CANARY-7d1e"
#: Nothing listens on port 9 of loopback (discard): connections are refused at once.
UNREACHABLE = f"postgresql://flashback:{PASSWORD}@127.0.0.1:9/flashback"

Run = Callable[..., subprocess.CompletedProcess[str]]
#: What a command says first when --database-url holds a password.
ARGV_WARNING = ("Warning: the password in --database-url can be read by other users of this "
                "machine (in the process list); put it in ~/.pgpass or PGPASSWORD, or the whole "
                "URL in FLASHBACK_DATABASE_URL.")


def with_password(url: str) -> str:
    """The URL with :data:`PASSWORD` as its password."""
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL database, named with a password in its URL."""
    return with_password(fresh_database_url())


def assert_plain(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    """One ``Error:`` sentence with ``words`` on stderr, the exit code, and no secrets."""
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line != ARGV_WARNING]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and words in lines[0]
    for leak in ("Traceback", PASSWORD, "sqlalchemy", "psycopg", "(Background on this error"):
        assert leak not in result.stdout + result.stderr


# -- admin key new ---------------------------------------------------------------------------


def test_key_new_prints_a_fresh_32_byte_base64_key(run_process: Run) -> None:
    first, second = run_process("admin", "key", "new"), run_process("admin", "key", "new")
    assert first.returncode == second.returncode == 0
    keys = [first.stdout.strip(), second.stdout.strip()]
    assert all(len(base64.b64decode(key, validate=True)) == 32 for key in keys)
    assert keys[0] != keys[1] and first.stderr == ""


# -- admin migrate ---------------------------------------------------------------------------


def test_migrate_brings_a_sqlite_data_dir_to_head_and_says_so(run_process: Run,
                                                              tmp_path: Path) -> None:
    data_dir = tmp_path / "platform"
    data_dir.mkdir()
    older = Database(data_dir)
    upgrade(older.conn(), "0005")
    older.close()

    done = run_process("admin", "migrate", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"schema revision 0005 -> {HEAD}\n"
    again = run_process("admin", "migrate", "--data-dir", str(data_dir))
    assert again.stdout == f"already at {HEAD}\n"
    # Schema only: no first-start rows, no key file.
    check = Database(data_dir)
    assert check.conn().execute("SELECT COUNT(*) FROM orgs").fetchone()[0] == 0
    check.close()
    assert not (data_dir / "master.key").exists()


def test_migrate_an_empty_postgresql_database_while_a_platform_serves_it(
        run_process: Run, pg_url: str, tmp_path: Path) -> None:
    done = run_process("admin", "migrate", "--database-url", pg_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"schema revision (empty) -> {HEAD}\n"
    with serving(pg_url, tmp_path / "replica") as url:
        again = run_process("admin", "migrate", FLASHBACK_DATABASE_URL=pg_url)
        assert again.returncode == 0, again.stderr
        assert again.stdout == f"already at {HEAD}\n"
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


def test_migrate_refuses_a_database_url_with_a_data_dir(run_process: Run, pg_url: str,
                                                        tmp_path: Path) -> None:
    both = run_process("admin", "migrate", "--database-url", pg_url, "--data-dir",
                       str(tmp_path))
    assert both.returncode == ExitCode.USAGE
    assert "not both" in both.stderr and PASSWORD not in both.stderr


@pytest.mark.parametrize(("url", "code", "words"), [
    (f"mysql://root:{PASSWORD}@db/flashback", ExitCode.USAGE, "start with postgresql://"),
    (f"postgresql://root:{PASSWORD}@db:port/x", ExitCode.USAGE, "is not a URL"),
    (UNREACHABLE, ExitCode.FAILURE,
     "cannot use the database postgresql://flashback:***@127.0.0.1:9/flashback: the database "
     "server cannot be reached (Connection refused)"),
])
def test_migrate_explains_a_bad_or_unreachable_database(run_process: Run, url: str, code: int,
                                                        words: str) -> None:
    assert_plain(run_process("admin", "migrate", "--database-url", url), code, words)
    # The same through the variable, which every admin command reads.
    assert_plain(run_process("admin", "key", "status", FLASHBACK_DATABASE_URL=url,
                             FLASHBACK_MASTER_KEY=TEST_MASTER_KEY), code, words)


def test_migrate_names_a_missing_database(run_process: Run, pg_url: str) -> None:
    missing = make_url(pg_url).set(database="no_such_database")
    result = run_process("admin", "migrate", "--database-url",
                         missing.render_as_string(hide_password=False))
    assert_plain(result, ExitCode.FAILURE, 'the database server refused (database '
                 '"no_such_database" does not exist)')


# -- serve --database-url --------------------------------------------------------------------


class serving:
    """``flashback-tui serve --database-url URL`` in the foreground, stopped on exit."""

    def __init__(self, database_url: str, data_dir: Path, **env: str | None) -> None:
        self.command = [sys.executable, "-m", "flashback_tui", "serve", "--port", "0",
                        "--data-dir", str(data_dir), "--database-url", database_url]
        self.env = process_env({"FLASHBACK_MASTER_KEY": TEST_MASTER_KEY, **env})
        self.banner: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.banner = [self.proc.stdout.readline() for _ in range(4)]
        assert self.banner[0].startswith("Flashback local platform listening on "), (
            self.banner, self.proc.stderr.read() if self.proc.poll() is not None else "")
        return self.banner[0].split(" on ", 1)[1].strip()

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.stderr = self.proc.stderr.read() if self.proc.stderr else ""
        assert "Traceback" not in self.stderr and PASSWORD not in self.stderr


def test_a_password_in_the_flag_is_warned_of_and_one_in_the_variable_is_not(
        run_process: Run, pg_url: str) -> None:
    flagged = run_process("admin", "migrate", "--database-url", pg_url)
    assert flagged.returncode == 0, flagged.stderr
    assert flagged.stderr.strip() == ARGV_WARNING
    quiet = run_process("admin", "migrate", FLASHBACK_DATABASE_URL=pg_url)
    assert quiet.returncode == 0 and quiet.stderr == ""
    bare = run_process("admin", "migrate", "--database-url", fresh_database_url())
    assert bare.returncode == 0 and bare.stderr == ""


def test_serve_uses_the_flag_over_the_variable_and_never_shows_the_password(
        pg_url: str, tmp_path: Path) -> None:
    server = serving(pg_url, tmp_path / "data", FLASHBACK_DATABASE_URL=UNREACHABLE)
    with server as url:
        answer = httpx.get(f"{url}/healthz", timeout=10)
        assert answer.status_code == 200 and answer.json()["database"] == "ok"
    assert server.banner[2].startswith("Database: postgresql://postgres:***@/")
    assert str(make_url(pg_url).database) in server.banner[2]
    banner = "".join(server.banner)
    assert PASSWORD not in banner and "FLASHBACK_DATABASE_URL" in banner


@pytest.mark.parametrize(("url", "code", "words"), [
    (f"postgres ql://x:{PASSWORD}@h/d", ExitCode.USAGE, "is not a URL"),
    (UNREACHABLE, ExitCode.FAILURE, "the database server cannot be reached"),
])
def test_serve_explains_a_bad_or_unreachable_database(run_process: Run, tmp_path: Path,
                                                      url: str, code: int, words: str) -> None:
    result = run_process("serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                         "--database-url", url, FLASHBACK_MASTER_KEY=TEST_MASTER_KEY)
    assert_plain(result, code, words)


@pytest.mark.parametrize(("env", "words"), [
    ({"FLASHBACK_WORKER_THREADS": "abc"},
     "FLASHBACK_WORKER_THREADS must be a whole number. Unset it to use its default."),
    ({"FLASHBACK_WORKER_THREADS": "0"}, "FLASHBACK_WORKER_THREADS must be at least 1."),
    ({"FLASHBACK_PROBE_TIMEOUT": "-1", "FLASHBACK_STRICT_WIRE": "maybe"},
     "FLASHBACK_PROBE_TIMEOUT must be more than 0; FLASHBACK_STRICT_WIRE must be on or off"),
])
def test_serve_names_a_bad_setting_in_plain_words_and_opens_nothing(
        run_process: Run, tmp_path: Path, env: dict[str, str], words: str) -> None:
    result = run_process("serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                         FLASHBACK_DATABASE_URL=UNREACHABLE, **env)
    assert_plain(result, ExitCode.USAGE, words)
    assert "pydantic" not in result.stderr and "abc" not in result.stderr
    assert not (tmp_path / "d").exists()  # refused before the data dir was made


def test_serve_on_postgresql_asks_for_the_master_key(run_process: Run, pg_url: str,
                                                     tmp_path: Path) -> None:
    result = run_process("serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                         FLASHBACK_DATABASE_URL=pg_url, FLASHBACK_MASTER_KEY=None)
    assert_plain(result, ExitCode.FAILURE, "FLASHBACK_MASTER_KEY")
    assert "admin key new" in result.stderr


def test_serve_embedded_reads_the_database_from_the_variable(pg_url: str,
                                                             tmp_path: Path) -> None:
    from flashback_tui.server.runner import LocalServer

    server = LocalServer(tmp_path / "data", env={"FLASHBACK_DATABASE_URL": pg_url,
                                                 "FLASHBACK_MASTER_KEY": TEST_MASTER_KEY})
    with server:
        assert server.pid is not None
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert PASSWORD.encode() not in argv and b"--database-url" not in argv
        token = server.admin_token.get_secret_value()
        workspaces = httpx.get(f"{server.url}/workspace", timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert workspaces.status_code == 200
    probe = Database(tmp_path, url=pg_url)
    assert probe.conn().execute("SELECT COUNT(*) FROM orgs").fetchone()[0] == 1
    probe.close()
    assert not (tmp_path / "data" / "flashback.db").exists()
