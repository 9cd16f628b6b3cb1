"""``admin copy``: a whole platform from SQLite to PostgreSQL and back, its secret still working.

The source is a real platform: a configuration whose secret is a canary (the only key the
provider stand-in accepts), validated; a repository and its AI key; a policy that a gateway
call through that key violated; usage, events and tokens. After each copy every table holds
the same rows (ids, timestamps, insertion order), the configuration validates on a server
of the destination (its secret opens there and reaches the provider), and the canary and
the database password appear in no output and no log.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy.engine import make_url

from flashback_tui.server.crypto import key_id, parse_master_key
from flashback_tui.server.db import Database, db_path
from flashback_tui.server.migrations import HEAD, upgrade
from flashback_tui.server.platform_copy import ORDERED, TABLES
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.sql import columns
from tests.cli.conftest import process_env
from tests.conftest import PlatformHandle, World, make_world
from tests.gateway.helpers import Api, Linked, make_linked
from tests.support.fake_provider import FakeProvider
from tests.support.postgres import TEST_MASTER_KEY, fresh_database_url, postgres_env

PASSWORD = "pw-CANARY-c0b7"
#: The sealed columns: re-sealed under another key, so they differ by design.
SEALED = {"key_kid", "key_blob", "secret_kid", "secret_blob"}


@dataclass
class Source:
    """A stopped SQLite platform with a bit of everything, and what it was built with."""

    data_dir: Path
    world: World
    linked: Linked
    canary: str
    provider: FakeProvider

    @property
    def url(self) -> str:
        return f"sqlite:///{db_path(self.data_dir)}"


def flashback(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """``python -m flashback_tui ARGS`` in a child process, to the end."""
    return subprocess.run([sys.executable, "-m", "flashback_tui", *args], capture_output=True,
                          text=True, timeout=120, check=False,
                          env=process_env({"FLASHBACK_MASTER_KEY": TEST_MASTER_KEY,
                                           "FLASHBACK_DATABASE_URL": None, **env}))


def errors(result: subprocess.CompletedProcess[str]) -> str:
    """What a run said on stderr besides the warning that a URL argument holds a password."""
    return "".join(line for line in result.stderr.splitlines(keepends=True)
                   if not line.startswith("Warning: the password in --"))


def pg_database() -> str:
    """A fresh PostgreSQL database; its URL carries :data:`PASSWORD`."""
    url = make_url(fresh_database_url()).set(password=PASSWORD)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    canary = f"sk-CANARY-{uuid.uuid4().hex}"
    data_dir = tmp_path_factory.mktemp("sqlite-source")
    with FakeProvider(valid_keys={canary}) as provider:
        server = LocalServer(data_dir, env={"FLASHBACK_DATABASE_URL": ""})
        server.start()
        try:
            handle = PlatformHandle(url=server.url, data_dir=data_dir, server=server,
                                    admin_token=server.admin_token.get_secret_value())
            world = make_world(data_dir)
            linked = make_linked(handle, world, provider.endpoint("ok"), secret=canary)
            _use(linked)
        finally:
            server.stop()  # writes the pending usage and violations
        yield Source(data_dir, world, linked, canary, provider)


def _use(linked: Linked) -> None:
    """Validate the configuration, and violate a policy through the gateway."""
    assert linked.api.call("POST", f"/ai/llm/{linked.llm_id}/validate")["success"] is True
    org_id = linked.api.call("GET", "/user/profile")["data"]["orgId"]
    word = f"forbidden{uuid.uuid4().hex[:8]}"
    linked.api.call("POST", "/policy", json={
        "name": "no-word", "content": word, "riskType": "LOW", "actionType": 0,
        "orgId": org_id, "workspaceId": linked.world.workspace_id})
    gateway = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    for text in ("hello", f"{word} please"):
        gateway.chat.completions.create(model="m-1",
                                        messages=[{"role": "user", "content": text}])


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (insertion order where the store keeps one), sealed values aside."""
    db = Database(Path("."), url=url)
    try:
        conn = db.conn()
        rows = {}
        for table in TABLES:
            names = sorted(c for c in columns(conn, table) if c not in SEALED | {"rowid"})
            listed = ", ".join(names)
            if table in ORDERED:
                rows[table] = conn.tuples(f"SELECT rowid, {listed} FROM {table} ORDER BY rowid")
            else:
                rows[table] = sorted(conn.tuples(f"SELECT {listed} FROM {table}"), key=repr)
        return {table: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                        for row in found] for table, found in rows.items()}
    finally:
        db.close()


def sealed_kids(url: str) -> set[str]:
    db = Database(Path("."), url=url)
    try:
        return {kid for row in db.conn().tuples("SELECT key_kid, secret_kid FROM ai_llms")
                for kid in row if kid is not None}
    finally:
        db.close()


def assert_clean(*outputs: str, canary: str) -> None:
    for text in outputs:
        assert canary not in text and PASSWORD not in text and "Traceback" not in text


def assert_counts_printed(stdout: str, rows: dict[str, list[Any]]) -> None:
    printed = dict(line.split() for line in stdout.splitlines() if line.startswith("  "))
    assert printed == {table: f"{len(found):,}" for table, found in rows.items()}


def validates(server: LocalServer, linked: Linked) -> bool:
    """Whether the configuration validates on ``server`` (its secret opened and accepted)."""
    api = Api(server.url, linked.world.tokens["WRITE"])  # tokens were copied too
    return api.call("POST", f"/ai/llm/{linked.llm_id}/validate")["success"] is True


def test_sqlite_to_postgresql_keeps_everything_and_the_secret_works(
        source: Source, tmp_path: Path) -> None:
    before = snapshot(source.url)
    for table in ("ai_llms", "usage_minute", "usage_daily", "policy_violations",
                  "system_events", "tokens", "repo_ai_api_keys"):
        assert before[table], f"the source should hold {table} rows"
    target = pg_database()
    replica = LocalServer(tmp_path / "first-start", env=postgres_env(target))
    replica.start()  # a first start: the org, workspace Default and admin@localhost
    replica.stop()

    copied = flashback("admin", "copy", "--from", source.url, "--to", target)
    assert copied.returncode == 0, copied.stderr
    assert_clean(copied.stdout, copied.stderr, canary=source.canary)
    assert copied.stderr.startswith("Warning: the password in --to can be read by other users")
    assert errors(copied) == ""  # nothing for --from: a sqlite:/// URL has no password
    assert copied.stdout.startswith(f"copied {source.url} -> postgresql://postgres:***@/")
    assert "replaced the destination's first-start rows" in copied.stdout
    assert_counts_printed(copied.stdout, before)
    new_kid = key_id(parse_master_key(TEST_MASTER_KEY))
    assert f"secrets: 1 re-sealed, 0 kept as they were; all under key {new_kid} from " \
           "FLASHBACK_MASTER_KEY" in copied.stdout
    assert snapshot(target) == before
    assert sealed_kids(target) == {new_kid}

    server = LocalServer(tmp_path / "replica", env=postgres_env(target))
    with server:
        assert validates(server, source.linked)
        gateway = openai.OpenAI(base_url=f"{server.url}/v1", api_key=source.linked.secret,
                                max_retries=0)
        gateway.chat.completions.create(model="m-1", messages=[{"role": "user",
                                                                 "content": "again"}])
        # New rows follow the copied ones (identity sequences moved past them).
        owner = server.admin_token.get_secret_value()  # the copied admin@localhost's
        with httpx.Client(base_url=server.url, timeout=30,
                          headers={"Authorization": f"Bearer {owner}"}) as http:
            assert http.post("/workspace", json={"name": "after-copy"}).status_code == 200
    assert_clean(server.log_path.read_text(), canary=source.canary)
    after = snapshot(target)
    assert after["workspaces"][-1][0] > before["workspaces"][-1][0]
    assert after["system_events"][-1][0] > max(row[0] for row in before["system_events"])

    again = flashback("admin", "copy", "--from", source.url, "--to", target)
    assert again.returncode == 1
    assert errors(again).startswith("Error: the destination already holds data (")
    assert "copy into an empty database" in again.stderr
    assert snapshot(target) == after


def test_postgresql_back_to_sqlite_while_it_serves(source: Source, tmp_path: Path) -> None:
    platform = pg_database()
    assert flashback("admin", "copy", "--from", source.url, "--to", platform).returncode == 0
    backup_dir = tmp_path / "backup"
    backup = f"sqlite:///{db_path(backup_dir)}"
    with LocalServer(tmp_path / "replica", env=postgres_env(platform)) as serving:
        assert validates(serving, source.linked)
        # Sealed under a key of the backup's own (the master.key made beside the file).
        done = flashback("admin", "copy", "--from", platform, "--to", backup, "--to-key-env",
                         "")
    assert done.returncode == 0, done.stderr
    assert_clean(done.stdout, done.stderr, canary=source.canary)
    assert f"from {backup_dir / 'master.key'}" in done.stdout
    assert "replaced" not in done.stdout
    copied = snapshot(platform)
    assert snapshot(backup) == copied
    assert_counts_printed(done.stdout, copied)
    assert (backup_dir / "master.key").stat().st_mode & 0o777 == 0o600
    assert db_path(backup_dir).stat().st_mode & 0o777 == 0o600

    restored = LocalServer(backup_dir, env={"FLASHBACK_DATABASE_URL": "",
                                            "FLASHBACK_MASTER_KEY": ""})
    with restored:
        assert validates(restored, source.linked)
    assert_clean(restored.log_path.read_text(), canary=source.canary)


def test_a_source_key_kept_elsewhere_is_named_with_from_key_file(source: Source,
                                                                 tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(source.data_dir, moved)
    key_file = tmp_path / "vault" / "source.key"
    key_file.parent.mkdir()
    (moved / "master.key").rename(key_file)
    target = pg_database()

    moved_url = f"sqlite:///{db_path(moved)}"
    no_key = flashback("admin", "copy", "--from", moved_url, "--to", target,
                       "--from-key-env", "")
    assert no_key.returncode == 1
    assert "the source's secrets need its master key" in no_key.stderr
    wrong_key = flashback("admin", "copy", "--from", moved_url, "--to", target)
    assert wrong_key.returncode == 1
    assert "which the source's keys at hand do not open" in wrong_key.stderr
    for refused in (no_key, wrong_key):
        assert "--from-key-file" in refused.stderr and "nothing was copied" in refused.stderr
        assert_clean(refused.stdout, refused.stderr, canary=source.canary)
    assert snapshot(target) == {table: [] for table in TABLES}

    done = flashback("admin", "copy", "--from", moved_url, "--to", target, "--from-key-file",
                     str(key_file))
    assert done.returncode == 0, done.stderr
    assert not (moved / "master.key").exists()  # nothing is written beside a source
    with LocalServer(tmp_path / "replica", env=postgres_env(target)) as server:
        assert validates(server, source.linked)


def test_a_source_at_an_older_revision_is_migrated_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir()
    old = Database(data_dir)
    upgrade(old.conn(), "0005")
    old.close()
    refused = flashback("admin", "copy", "--from", f"sqlite:///{db_path(data_dir)}", "--to",
                        pg_database())
    assert refused.returncode == 1
    assert f"bring it to {HEAD} first with `flashback-tui admin migrate`" in refused.stderr


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--from", "mysql://u@h/d"], 2, "--from: database URLs start with postgresql://"),
    (["--to", "nonsense"], 2, "--to: the database URL is not a URL"),
    (["--from", "sqlite:////no/such/dir/flashback.db"], 1, "/no/such/dir/flashback.db does not"
     " exist"),
    (["--to", f"postgresql://u:{PASSWORD}@127.0.0.1:9/d"], 1,
     "the destination: cannot use the database postgresql://u:***@127.0.0.1:9/d: the database "
     "server cannot be reached (Connection refused)"),
])
def test_bad_sides_are_plain_errors(source: Source, args: list[str], code: int,
                                    words: str) -> None:
    sides = {"--from": source.url, "--to": pg_database()}
    sides.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = flashback("admin", "copy", *(item for pair in sides.items() for item in pair))
    assert result.returncode == code, result.stderr
    assert errors(result).startswith("Error: ") and words in result.stderr
    assert len(errors(result).strip().splitlines()) == 1
    assert_clean(result.stdout, result.stderr, canary=source.canary)


def test_a_database_is_not_copied_onto_itself(source: Source) -> None:
    result = flashback("admin", "copy", "--from", source.url, "--to", source.url)
    assert result.returncode == 1 and "are the same database" in result.stderr
