"""Last-known lists on disk: modes, content, atomic replacement, whose they are, damage."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType, ModeType, RepoWrite, StorageType
from flashback_tui.domain.status import ConfigState, ConfigStatus
from flashback_tui.snapshot import (
    FORMAT,
    VERSION,
    SnapshotKey,
    SnapshotRow,
    SnapshotStore,
    describe_age,
    masked_key,
    rows_from_llms,
)

KEY = SnapshotKey("work", "https://backend.example.test", "ops@example.test", "ws-1")


def row(index: int, **changes: object) -> SnapshotRow:
    base = SnapshotRow(f"id-{index}", f"cfg-{index:05d}", "ws-1", "OPENAI",
                       "https://api.example.com/v1", "****abcd", ("repo-a",),
                       "2026-01-02T03:04:05+00:00", "VALID", "", 1_700_000_000.0)
    return base._replace(**changes)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "cache" / "snapshots", clock=Clock(), rewrite_interval=0)


def snapshot_files(store: SnapshotStore) -> list[Path]:
    return sorted(store.directory.glob("*.json"))


# -- files and modes ----------------------------------------------------------------------


def test_a_snapshot_is_a_0600_file_in_a_0700_directory(store: SnapshotStore) -> None:
    previous = os.umask(0)  # the widest umask: modes must not depend on it
    try:
        assert store.save(KEY, [row(1)], 1_799_999_000.0, workspace_name="Ops")
    finally:
        os.umask(previous)
    (path,) = snapshot_files(store)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.directory.parent.stat().st_mode) == 0o700  # created by us too
    assert [p.name for p in store.directory.iterdir() if p.name.endswith(".tmp")] == []


def test_a_directory_that_others_can_read_is_narrowed(store: SnapshotStore) -> None:
    store.directory.mkdir(parents=True, mode=0o755)
    os.chmod(store.directory, 0o755)
    store.save(KEY, [row(1)])
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700


def test_what_was_saved_loads_back_with_its_age(store: SnapshotStore) -> None:
    rows = [row(1), row(2, endpoint=None, key=None, repos=None, created_at=None,
                        status="INVALID", status_message="bad key", status_at=None)]
    store.save(KEY, rows, 1_800_000_000.0 - 180, workspace_name="Ops")
    loaded = store.load(KEY)
    assert loaded is not None
    assert loaded.rows == tuple(rows) and loaded.key == KEY
    assert loaded.taken_at == 1_800_000_000.0 - 180 and loaded.age == 180
    assert loaded.workspace_name == "Ops" and describe_age(loaded.age) == "3 min ago"
    assert loaded.rows[1].state is ConfigState.INVALID
    assert loaded.rows[1].config_status() == ConfigStatus(ConfigState.INVALID, "bad key",
                                                          "snapshot")


def header_and_rows(path: Path) -> tuple[dict, bytes]:
    head, _, body = path.read_bytes().partition(b"\n")
    return json.loads(head), body


def test_the_file_names_its_owner_and_version(store: SnapshotStore) -> None:
    store.save(KEY, [row(1), row(2)])
    (path,) = snapshot_files(store)
    header, body = header_and_rows(path)
    assert header["format"] == FORMAT and header["version"] == VERSION
    assert (header["profile"], header["url"], header["user"], header["workspace"]) == (
        "work", "https://backend.example.test", "ops@example.test", "ws-1")
    assert header["count"] == 2 and header["sha256"] == hashlib.sha256(body).hexdigest()
    assert json.loads(body)[0][:2] == ["id-1", "cfg-00001"]


def test_rows_not_shaped_as_snapshot_rows_are_refused_on_save(store: SnapshotStore) -> None:
    with pytest.raises(ValueError):
        store.save(KEY, [row(1, name=42)])
    assert snapshot_files(store) == []


def test_all_workspaces_and_each_workspace_are_kept_apart(store: SnapshotStore) -> None:
    everything = KEY.with_workspace(None)
    store.save(everything, [row(1), row(2)])
    store.save(KEY, [row(1)])
    assert len(store.load(everything).rows) == 2
    assert len(store.load(KEY).rows) == 1


def test_the_latest_snapshot_of_a_user_is_found_without_its_workspace(
    store: SnapshotStore,
) -> None:
    store.save(KEY.with_workspace("ws-a"), [row(1)], workspace_name="A")
    store.save(KEY.with_workspace("ws-b"), [row(2)], workspace_name="B")
    latest = store.load_latest(KEY.with_workspace(None))
    assert latest is not None and latest.workspace_name == "B"
    assert latest.key.workspace == "ws-b"
    other_user = SnapshotKey(KEY.profile, KEY.url, "someone@example.test")
    assert store.load_latest(other_user) is None


# -- content: never a secret, never a token -----------------------------------------------


async def test_rows_built_from_the_platform_carry_no_secret_and_no_token(
    platform, world, store: SnapshotStore
) -> None:
    secret = f"sk-CANARY-{uuid.uuid4().hex}"
    key = f"AKIACANARY{uuid.uuid4().hex[:12].upper()}"
    token = world.tokens["ADMIN"]
    async with FlashbackClient(platform.url, token=token) as client:
        created = await client.create_ai_llm(AiLlmCreate(
            name="Bedrock prod", ai_type=AiType.AWS, endpoint="https://bedrock.example.test",
            key=SecretStr(key), secret=SecretStr(secret), workspace_id=world.workspace_id))
        await client.create_repo(RepoWrite(
            name="docs-repo", storage_type=StorageType.S3, mode=ModeType.NORMAL,
            workspace_id=world.workspace_id, repo_ai_llms=[{"aiLlmId": created.ai_llm_id}]))
        listed = (await client.get_ai_llms(world.workspace_id)).ai_llms
    rows = rows_from_llms(listed)
    (only,) = rows
    assert only.id == created.ai_llm_id and only.name == "Bedrock prod"
    assert only.ai_type == "AWS" and only.endpoint == "https://bedrock.example.test"
    assert only.key == "****" + key[-4:] and only.repos == ("docs-repo",)
    assert only.workspace_id == world.workspace_id and only.created_at
    store.save(KEY, rows)
    written = b"".join(p.read_bytes() for p in store.directory.iterdir())
    for forbidden in (secret, key, token, platform.admin_token):
        assert forbidden.encode() not in written


def test_a_key_sent_in_full_is_masked_before_it_is_kept() -> None:
    assert masked_key("****abcd") == "****abcd"
    assert masked_key("****") == "****"
    assert masked_key("AKIAFULLKEYVALUE1234") == "****1234"
    assert masked_key("short") == "****"
    assert masked_key(None) is None and masked_key("") is None


def test_statuses_and_their_times_come_from_the_caller() -> None:
    from flashback_tui.api.models import AiLlm

    llm = AiLlm.model_validate({"id": "a", "workspaceId": "w", "name": "n", "aiType": "OPENAI",
                                "key": None, "validationStatus": "VALID",
                                "validatedAt": "2026-01-01T00:00:00Z"})
    (from_platform,) = rows_from_llms([llm])
    assert from_platform.status == "VALID"
    assert from_platform.status_at == 1_767_225_600.0
    verdict = ConfigStatus(ConfigState.INVALID, "Key rejected", "session")
    (from_session,) = rows_from_llms([llm], {"a": verdict}, status_times={"a": 5.0})
    assert (from_session.status, from_session.status_message, from_session.status_at) == (
        "INVALID", "Key rejected", 5.0)


# -- atomic replacement -------------------------------------------------------------------


def test_a_reader_never_sees_a_partial_snapshot(store: SnapshotStore) -> None:
    small, big = [row(1)], [row(i) for i in range(3000)]
    store.save(KEY, small)
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for turn in range(40):
                store.save(KEY, big if turn % 2 == 0 else small)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    while not done.is_set():
        loaded = store.load(KEY)
        assert loaded is not None, "a load found no usable snapshot mid-write"
        assert len(loaded.rows) in (1, 3000)
        seen.add(len(loaded.rows))
    writer.join()
    assert not failures and seen and store.load(KEY) is not None
    assert len(snapshot_files(store)) == 1
    assert not [p for p in store.directory.iterdir() if p.name.endswith(".tmp")]


def test_an_unchanged_list_is_not_rewritten_within_the_interval(tmp_path: Path) -> None:
    clock = Clock()
    store = SnapshotStore(tmp_path / "s", clock=clock, rewrite_interval=60)
    assert store.save(KEY, [row(1)])
    clock.now += 30
    assert not store.save(KEY, [row(1)])  # only its time would change
    assert store.save(KEY, [row(2)])  # a change is written at once
    clock.now += 61
    assert store.save(KEY, [row(2)])
    assert store.load(KEY).taken_at == clock.now


# -- whose it is, and damage --------------------------------------------------------------


@pytest.mark.parametrize("other", [
    SnapshotKey("work", "https://other.example.test", "ops@example.test", "ws-1"),
    SnapshotKey("work", "https://backend.example.test", "eve@example.test", "ws-1"),
])
def test_a_snapshot_of_another_url_or_user_is_ignored(store: SnapshotStore,
                                                      other: SnapshotKey) -> None:
    store.save(other, [row(1)])
    assert store.load(KEY) is None
    # Even placed under this key's file name, the owner recorded inside decides.
    (path,) = snapshot_files(store)
    path.rename(store.directory / f"{KEY.stem()}.json")
    assert store.load(KEY) is None
    assert snapshot_files(store) == []  # and it is gone


@pytest.mark.parametrize("damage", [
    b"",
    b"{\"format\": \"flashback-tui/snapsh",
    b"\xff\xfe not json\n[]",
    b"[1, 2, 3]\n[]",
    b"null",
])
def test_a_garbled_file_is_ignored_and_deleted(store: SnapshotStore, damage: bytes) -> None:
    store.save(KEY, [row(1)])
    (path,) = snapshot_files(store)
    path.write_bytes(damage)
    assert store.load(KEY) is None
    assert not path.exists()
    assert store.save(KEY, [row(1)]) and store.load(KEY) is not None


@pytest.mark.parametrize("edit", [
    lambda h: h.update(version=VERSION + 1),
    lambda h: h.update(format="something-else"),
    lambda h: h.update(fields=h["fields"][:-1]),
    lambda h: h.update(takenAt="yesterday"),
    lambda h: h.update(count=h["count"] + 1),
    lambda h: h.update(sha256="0" * 64),
])
def test_another_version_or_header_is_ignored_and_deleted(store: SnapshotStore, edit) -> None:
    store.save(KEY, [row(1)])
    (path,) = snapshot_files(store)
    header, body = header_and_rows(path)
    edit(header)
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert store.load(KEY) is None
    assert not path.exists()


@pytest.mark.parametrize("cut", [
    lambda body: body[:-7],  # cut short
    lambda body: body.replace(b"cfg-00001", b"cfg-00002"),  # still JSON, not what was written
    lambda body: body + b" ",
])
def test_rows_that_are_not_the_bytes_written_are_ignored(store: SnapshotStore, cut) -> None:
    store.save(KEY, [row(1), row(2)])
    (path,) = snapshot_files(store)
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + cut(body))
    assert store.load(KEY) is None
    assert not path.exists()


def test_an_unreadable_file_does_not_raise(store: SnapshotStore) -> None:
    store.save(KEY, [row(1)])
    (path,) = snapshot_files(store)
    path.unlink()
    path.mkdir()  # not a file at all
    assert store.load(KEY) is None


def test_a_damaged_pointer_is_ignored(store: SnapshotStore) -> None:
    store.save(KEY, [row(1)])
    (pointer,) = store.directory.glob("*.latest")
    pointer.write_text("{}")
    assert store.load_latest(KEY) is None and not pointer.exists()
    assert store.load(KEY) is not None


def test_clear_removes_every_snapshot_and_counts_them(store: SnapshotStore) -> None:
    assert store.clear() == 0  # no directory yet
    for workspace in ("a", "b", None):
        store.save(KEY.with_workspace(workspace), [row(1)])
    (store.directory / ".leftover.json.0123.tmp").write_text("x")
    assert store.clear() == 3
    assert list(store.directory.iterdir()) == []
    assert store.load(KEY) is None and store.load_latest(KEY) is None


def test_a_disk_that_refuses_the_write_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = SnapshotStore(blocker / "snapshots")
    assert store.save(KEY, [row(1)]) is False


def test_ages_in_words() -> None:
    assert describe_age(-3) == "just now" and describe_age(2) == "just now"
    assert describe_age(42) == "42 s ago" and describe_age(3 * 60 + 59) == "3 min ago"
    assert describe_age(5 * 3600) == "5 h ago"
    assert describe_age(86400) == "1 day ago" and describe_age(3 * 86400) == "3 days ago"
