"""Deleted means gone: no old sealed secret in any file of the data dir, retired keys, and
backups that restore.

Each test runs its own server on a fresh data dir, so every byte on disk is its own doing.
These are SQLite's files, its key file and its backups; on PostgreSQL the operator's storage
holds the rows (VACUUM reclaims deleted ones), ``FLASHBACK_MASTER_KEY`` the keys, and
``pg_dump`` the backups. Rotation with keys from the environment, the one way PostgreSQL
rotates, is proven on both databases in ``test_storage``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from flashback_tui.cli import main
from flashback_tui.server import maintenance
from flashback_tui.server.crypto import CryptoError, Keyring, Sealed, associated_data
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from tests.support.fake_provider import FakeProvider

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "data", env={"FLASHBACK_PROBE_TIMEOUT": "5"}) as running:
        yield running


@pytest.fixture
def http(server: LocalServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield client


def workspace_of(http: httpx.Client) -> str:
    answer = http.get("/workspace")
    assert answer.status_code == 200, answer.text
    return answer.json()["workspaces"][0]["id"]


def create(http: httpx.Client, secret: str, endpoint: str, name: str | None = None) -> str:
    body = {"name": name or f"cfg-{uuid.uuid4().hex[:6]}", "aiType": "OPENAI",
            "endpoint": endpoint, "secret": secret, "key": f"key-{secret}",
            "workspaceId": workspace_of(http)}
    answer = http.post("/ai/llm", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["aiLlmId"]


def sealed_blobs(data_dir: Path, llm_id: str) -> list[bytes]:
    with PlatformState.open(data_dir) as state:
        row = state.db.conn().execute(
            "SELECT key_blob, secret_blob FROM ai_llms WHERE id = ?", (llm_id,)).fetchone()
    return [bytes(blob) for blob in row if blob is not None]


def files_holding(data_dir: Path, needles: list[bytes]) -> list[str]:
    """The files of the data dir that hold any of ``needles`` (a part of one is enough)."""
    found = []
    for path in sorted(data_dir.iterdir()):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if any(needle[12:44] in content for needle in needles):  # past the nonce
            found.append(path.name)
    return found


def test_a_deleted_configuration_leaves_no_sealed_byte_behind(server, http) -> None:
    with FakeProvider() as provider:
        keep = create(http, "sk-keep-" + uuid.uuid4().hex, provider.endpoint("ok"))
        gone = create(http, "sk-gone-" + uuid.uuid4().hex, provider.endpoint("ok"))
    kept_blobs, gone_blobs = sealed_blobs(server.data_dir, keep), sealed_blobs(server.data_dir,
                                                                              gone)
    assert files_holding(server.data_dir, gone_blobs)  # the check can see them before
    assert http.delete(f"/ai/llm/{gone}").status_code == 200
    assert files_holding(server.data_dir, gone_blobs) == []
    assert files_holding(server.data_dir, kept_blobs)  # the other one is still there


def test_a_rotated_secret_leaves_no_copy_of_the_old_one(server, http) -> None:
    with FakeProvider() as provider:
        llm_id = create(http, "sk-old-" + uuid.uuid4().hex, provider.endpoint("ok"))
    old = sealed_blobs(server.data_dir, llm_id)
    answer = http.put(f"/ai/llm/{llm_id}", json={"secret": "sk-new-" + uuid.uuid4().hex})
    assert answer.status_code == 200, answer.text
    remaining = files_holding(server.data_dir, old[1:])  # the secret's blob; the key is kept
    assert remaining == []


def open_all(data_dir: Path, keyring: Keyring) -> list[str]:
    """Open every sealed value of a data dir's database with ``keyring``."""
    with PlatformState.open(data_dir) as state:
        rows = state.db.conn().execute(
            "SELECT id, secret_kid, secret_blob FROM ai_llms WHERE secret_blob IS NOT NULL"
        ).fetchall()
    return [keyring.open(Sealed(kid, bytes(blob)), aad=associated_data(llm_id, "secret"))
            for llm_id, kid, blob in rows]


def test_rotate_key_retires_the_old_key_so_old_copies_cannot_be_opened(server, http,
                                                                        tmp_path) -> None:
    with FakeProvider(valid_keys={"sk-live"}) as provider:
        llm_id = create(http, "sk-live", provider.endpoint("ok"))
        old_kid = Keyring(server.data_dir).current_kid
        copy = tmp_path / "copy-before"
        shutil.copytree(server.data_dir, copy, ignore=shutil.ignore_patterns("master.key"))

        result = CliRunner().invoke(main, ["admin", "rotate-key", "--data-dir",
                                           str(server.data_dir)])
        assert result.exit_code == 0, result.output
        assert "removed 1 old key" in result.stderr and old_kid in result.stderr

        keyring = Keyring(server.data_dir)
        assert [k.kid for k in keyring.keys()] == [keyring.current_kid] != [old_kid]
        # The running server still validates with the re-sealed secret.
        assert http.post(f"/ai/llm/{llm_id}/validate").json()["success"] is True
    # The copy taken before the rotation cannot be opened with the new key file.
    shutil.copy(server.data_dir / "master.key", copy / "master.key")
    with pytest.raises(CryptoError):
        open_all(copy, Keyring(copy))

    status = CliRunner().invoke(main, ["admin", "key", "status", "--data-dir",
                                       str(server.data_dir)])
    assert status.exit_code == 0
    lines = status.stdout.splitlines()
    assert lines[1].split() == [keyring.current_kid, "file", "2", "yes"]  # key and secret
    assert len(lines) == 2


def test_keep_old_keeps_a_grace_period_of_keys(tmp_path) -> None:
    data_dir = tmp_path / "data"
    PlatformState.open(data_dir).close()
    first = Keyring(data_dir).current_kid
    maintenance.rotate_key(data_dir, keep_old=1)
    second = Keyring(data_dir).current_kid
    done = maintenance.rotate_key(data_dir, keep_old=1)
    assert done.kept == [second] and done.retired == [first]
    assert [k.kid for k in Keyring(data_dir).keys()] == [done.new_kid, second]


def count_calls(http: httpx.Client) -> dict[str, Any]:
    return {s["aiLlmId"]: s["totalApiCalls"] for s in http.get("/ai/llm/stats").json()["stats"]}


def test_backup_then_restore_into_a_fresh_dir(server, http, tmp_path) -> None:
    with FakeProvider(valid_keys={"sk-backed-up"}) as provider:
        llm_id = create(http, "sk-backed-up", provider.endpoint("ok"), name="backed up")
        backup_file = tmp_path / "backup.db"
        result = CliRunner().invoke(main, ["admin", "backup", str(backup_file), "--data-dir",
                                           str(server.data_dir)])
        assert result.exit_code == 0, result.output
        assert "not the master key" in result.stderr
        assert b"master" not in backup_file.read_bytes()[:0]  # the file exists and is ours
        assert backup_file.stat().st_mode & 0o777 == 0o600
        again = CliRunner().invoke(main, ["admin", "backup", str(backup_file), "--data-dir",
                                          str(server.data_dir)])
        assert again.exit_code == 1 and "already exists" in again.stderr

        fresh = tmp_path / "fresh"
        fresh.mkdir()
        # Without the key of the backup's time the restore is refused and changes nothing.
        refused = CliRunner().invoke(main, ["admin", "restore", str(backup_file),
                                            "--data-dir", str(fresh)])
        assert refused.exit_code == 1 and "cannot open" in refused.stderr
        shutil.copy(server.data_dir / "master.key", fresh / "master.key")
        restored = CliRunner().invoke(main, ["admin", "restore", str(backup_file),
                                             "--data-dir", str(fresh)])
        assert restored.exit_code == 0, restored.output
        assert "2 sealed value(s)" in restored.stderr
        with LocalServer(fresh) as other:
            headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
            with httpx.Client(base_url=other.url, headers=headers, timeout=10) as copy:
                assert [c["name"] for c in copy.get("/ai/llm").json()["aiLlms"]] == [
                    "backed up"]
                assert copy.post(f"/ai/llm/{llm_id}/validate").json()["success"] is True
                assert count_calls(copy) == count_calls(http)


def key_digest(data_dir: Path, key_id: str) -> bytes:
    with PlatformState.open(data_dir) as state:
        row = state.db.conn().execute("SELECT secret_hash FROM repo_ai_api_keys WHERE id = ?",
                                      (key_id,)).fetchone()
    return row[0].encode()


def digest_files(data_dir: Path, digest: bytes) -> list[str]:
    return [p.name for p in sorted(data_dir.iterdir()) if p.is_file() and digest in p.read_bytes()]


def repo_with_key(http: httpx.Client, llm_id: str, name: str) -> tuple[str, str]:
    repo = http.post("/repo", json={"name": name, "storageType": "S3", "mode": "NORMAL",
                                    "workspaceId": workspace_of(http),
                                    "repoAiLlms": [{"aiLlmId": llm_id}]})
    assert repo.status_code == 200, repo.text
    repo_id = repo.json()["repoId"]
    key = http.post(f"/repo/{repo_id}/ai/apikey", json={"name": "k", "aiType": "OPENAI"})
    assert key.status_code == 200, key.text
    return repo_id, key.json()["id"]


def test_revoking_a_key_or_deleting_its_repository_leaves_no_digest(server, http) -> None:
    with FakeProvider() as provider:
        llm_id = create(http, "sk-repo-" + uuid.uuid4().hex, provider.endpoint("ok"))
    repo_id, key_id = repo_with_key(http, llm_id, "revoked-here")
    digest = key_digest(server.data_dir, key_id)
    assert digest_files(server.data_dir, digest)
    assert http.delete(f"/repo/{repo_id}/ai/apikey/{key_id}").status_code == 200
    assert digest_files(server.data_dir, digest) == []

    other_repo, other_key = repo_with_key(http, llm_id, "deleted-here")
    digest = key_digest(server.data_dir, other_key)
    assert http.delete(f"/repo/{other_repo}").status_code == 200
    assert digest_files(server.data_dir, digest) == []


def test_deleting_a_workspace_leaves_nothing_of_its_configurations(server, http) -> None:
    created = http.post("/workspace", json={"name": "Short-lived"})
    assert created.status_code == 200, created.text
    ws_id = created.json()["workspace"]["id"]
    answer = http.post("/ai/llm", json={"name": "temp", "aiType": "OTHER",
                                        "endpoint": "https://llm.example.test/v1",
                                        "secret": "sk-ws-" + uuid.uuid4().hex,
                                        "workspaceId": ws_id})
    llm_id = answer.json()["aiLlmId"]
    blobs = sealed_blobs(server.data_dir, llm_id)
    assert http.delete(f"/workspace/{ws_id}").status_code == 403  # it still holds one
    assert http.delete(f"/ai/llm/{llm_id}").status_code == 200
    assert http.delete(f"/workspace/{ws_id}").status_code == 200
    assert files_holding(server.data_dir, blobs) == []


def totals_in(db_file: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT ai_llm_id, api_calls FROM usage_totals"))
    finally:
        conn.close()


def test_a_backup_taken_while_the_gateway_counts_restores_with_its_counts(server, http,
                                                                          tmp_path) -> None:
    import threading

    import openai

    with FakeProvider(valid_keys={"sk-counted"}) as provider:
        llm_id = create(http, "sk-counted", provider.endpoint("ok"))
        repo = http.post("/repo", json={"name": "busy", "storageType": "S3", "mode": "NORMAL",
                                        "workspaceId": workspace_of(http),
                                        "repoAiLlms": [{"aiLlmId": llm_id}]}).json()["repoId"]
        secret = http.post(f"/repo/{repo}/ai/apikey",
                           json={"name": "k", "aiType": "OPENAI"}).json()["secret"]
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0)
        stop, sent = threading.Event(), []

        def traffic() -> None:
            while not stop.is_set():
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "count me"}])
                sent.append(1)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            while len(sent) < 20:  # the gateway is counting
                stop.wait(0.01)
            http.get("/ai/llm/stats")  # a usage read writes what is pending; calls go on
            backup_file = tmp_path / "live.db"
            result = CliRunner().invoke(main, ["admin", "backup", str(backup_file),
                                               "--data-dir", str(server.data_dir)])
            assert result.exit_code == 0, result.output
        finally:
            stop.set()
            worker.join()
        backed_up = totals_in(backup_file)
        assert 0 < backed_up[llm_id] <= len(sent)

        fresh = tmp_path / "fresh"
        fresh.mkdir()
        shutil.copy(server.data_dir / "master.key", fresh / "master.key")
        restored = CliRunner().invoke(main, ["admin", "restore", str(backup_file),
                                             "--data-dir", str(fresh)])
        assert restored.exit_code == 0, restored.output
        with LocalServer(fresh) as other:
            headers = {"Authorization": f"Bearer {other.admin_token.get_secret_value()}"}
            with httpx.Client(base_url=other.url, headers=headers, timeout=10) as copy:
                assert {k: int(v) for k, v in count_calls(copy).items()} == backed_up
                assert copy.post(f"/ai/llm/{llm_id}/validate").json()["success"] is True
