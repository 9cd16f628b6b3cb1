"""Storage and sealing of the local platform, below HTTP: crypto, tokens, keys, usage."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashback_tui.api.models import AiType, Role
from flashback_tui.server import admin, maintenance
from flashback_tui.server.crypto import (
    KEY_FILENAME,
    MASTER_KEY_ENV,
    CryptoError,
    Keyring,
    Sealed,
    associated_data,
)
from flashback_tui.server.security import hash_password, token_digest, verify_password
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store
from tests.support.backends import database_env
from tests.support.statements import statements_sent
from tests.support.store_state import SECRET, default_ids, new_llm

# -- files and modes -------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_data_dir_key_file_and_database_are_private(state: PlatformState) -> None:
    assert stat.S_IMODE(state.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((state.data_dir / KEY_FILENAME).stat().st_mode) == 0o600
    new_llm(state)  # make sure the WAL files exist
    for name in ("flashback.db", "flashback.db-wal", "flashback.db-shm"):
        path = state.data_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def with_master_key(keys: str) -> dict[str, str]:
    """This test's database (see ``tests.support.backends``) with ``keys`` as the master keys."""
    return {**database_env(), MASTER_KEY_ENV: keys}


def test_environment_master_key_is_used_instead_of_a_key_file(tmp_path: Path) -> None:
    key = new_master_key()
    with PlatformState.open(tmp_path, env=with_master_key(key)) as opened:
        llm_id = new_llm(opened)
    assert not (tmp_path / KEY_FILENAME).exists()
    with PlatformState.open(tmp_path, env=with_master_key(key)) as reopened:
        creds = llm_store.load_credentials(reopened.db.conn(), reopened.keyring, llm_id)
        assert creds.secret is not None and creds.secret.get_secret_value() == SECRET
    with PlatformState.open(tmp_path, env=with_master_key(new_master_key())) as wrong_key:
        with pytest.raises(CryptoError, match="unknown key id"):
            llm_store.load_credentials(wrong_key.db.conn(), wrong_key.keyring, llm_id)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_environment_master_key_is_a_clear_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(CryptoError, match=MASTER_KEY_ENV) as caught:
        Keyring(tmp_path, env={MASTER_KEY_ENV: value})
    assert value not in str(caught.value)


# -- sealing ---------------------------------------------------------------------------------


def test_each_seal_uses_a_fresh_nonce_and_binds_its_row(state: PlatformState) -> None:
    aad = associated_data("row-1", "secret")
    first = state.keyring.seal(SECRET, aad=aad)
    second = state.keyring.seal(SECRET, aad=aad)
    assert first.blob[:12] != second.blob[:12]
    assert SECRET.encode() not in first.blob
    assert state.keyring.open(first, aad=aad) == SECRET
    with pytest.raises(CryptoError) as caught:
        state.keyring.open(first, aad=associated_data("row-2", "secret"))
    assert SECRET not in str(caught.value)
    tampered = Sealed(first.kid, first.blob[:-1] + bytes([first.blob[-1] ^ 1]))
    with pytest.raises(CryptoError):
        state.keyring.open(tampered, aad=aad)


def test_ciphertext_moved_to_another_row_fails_to_open(state: PlatformState) -> None:
    source = new_llm(state, "source")
    target = new_llm(state, "target", secret=SecretStr("sk-other-secret"))
    conn = state.db.conn()
    conn.execute(
        "UPDATE ai_llms SET secret_kid = (SELECT secret_kid FROM ai_llms WHERE id = ?),"
        " secret_blob = (SELECT secret_blob FROM ai_llms WHERE id = ?) WHERE id = ?",
        (source, source, target),
    )
    with pytest.raises(CryptoError, match="failed authentication"):
        llm_store.load_credentials(conn, state.keyring, target)
    # Swapping the key and secret columns of one row fails too (the field is bound as well).
    conn.execute("UPDATE ai_llms SET secret_kid = key_kid, secret_blob = key_blob WHERE id = ?",
                 (source,))
    with pytest.raises(CryptoError):
        llm_store.load_credentials(conn, state.keyring, source)


def test_rotate_key_reseals_everything_and_keeps_it_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PlatformState.open(tmp_path) as opened:
        ids = [new_llm(opened, f"cfg-{i}", secret=SecretStr(f"sk-{i}-secret")) for i in range(5)]
        keyless = new_llm(opened, "keyless", key=None, secret=None)
        old_kid = opened.keyring.current_kid
        old_blobs = {r[0]: r[1] for r in opened.db.conn().execute(
            "SELECT id, secret_blob FROM ai_llms")}
    if os.environ.get(MASTER_KEY_ENV):  # PostgreSQL's: the operator puts a new key first
        monkeypatch.setenv(MASTER_KEY_ENV, f"{new_master_key()},{os.environ[MASTER_KEY_ENV]}")

    assert admin.rotate_key(tmp_path) == 10  # five keys and five secrets

    with PlatformState.open(tmp_path) as reopened:
        conn = reopened.db.conn()
        new_kid = reopened.keyring.current_kid
        assert new_kid != old_kid
        kids = {r[0] for r in conn.execute(
            "SELECT key_kid FROM ai_llms WHERE key_kid IS NOT NULL UNION "
            "SELECT secret_kid FROM ai_llms WHERE secret_kid IS NOT NULL")}
        assert kids == {new_kid}
        for i, llm_id in enumerate(ids):
            creds = llm_store.load_credentials(conn, reopened.keyring, llm_id)
            assert creds.secret is not None
            assert creds.secret.get_secret_value() == f"sk-{i}-secret"
            assert conn.execute("SELECT secret_blob FROM ai_llms WHERE id = ?",
                                (llm_id,)).fetchone()[0] != old_blobs[llm_id]
        assert llm_store.load_credentials(conn, reopened.keyring, keyless).secret is None


def test_a_keyring_from_the_environment_cannot_add_a_key_itself(tmp_path: Path) -> None:
    env = {MASTER_KEY_ENV: base64.b64encode(os.urandom(32)).decode()}
    keyring = Keyring(tmp_path, env=env)
    with pytest.raises(CryptoError, match="put a new key first"):
        keyring.rotate()


def test_rotation_with_keys_from_the_environment(tmp_path: Path) -> None:
    old, new = new_master_key(), new_master_key()
    with PlatformState.open(tmp_path, env=with_master_key(old)) as state:
        llm_id = new_llm(state, key=None)
    both = with_master_key(f"{new},{old}")
    done = maintenance.rotate_key(tmp_path, env=both)
    assert done.resealed == 1
    statuses = maintenance.key_status(tmp_path, env=both)
    seals = {s.info.kid: (s.info.source, s.seals, s.info.current) for s in statuses}
    assert seals[done.new_kid] == ("env", 1, True)
    with PlatformState.open(tmp_path, env=with_master_key(new)) as reopened:
        assert reopened.keyring.current_kid == done.new_kid
        creds = llm_store.load_credentials(reopened.db.conn(), reopened.keyring, llm_id)
        assert creds.secret is not None and creds.secret.get_secret_value() == SECRET


@pytest.mark.sqlite_only  # the key file is a SQLite data dir's; PostgreSQL's keys are in the env
def test_a_keyring_follows_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    with PlatformState.open(tmp_path) as server_side:
        llm_id = new_llm(server_side)
        admin.rotate_key(tmp_path)  # as the admin command would, with its own keyring
        creds = llm_store.load_credentials(server_side.db.conn(), server_side.keyring, llm_id)
        assert creds.secret is not None and creds.secret.get_secret_value() == SECRET
        sealed = server_side.keyring.seal("x", aad=b"a")
        assert sealed.kid == Keyring(tmp_path).current_kid


# -- configurations --------------------------------------------------------------------------


def test_credential_changes_bump_the_generation_and_drop_validation(state: PlatformState) -> None:
    conn = state.db.conn()
    llm_id = new_llm(state)
    generation = llm_store.ai_llm_row(conn, llm_id)["generation"]
    assert llm_store.record_validation(conn, llm_id, generation, True, "Validated")

    assert llm_store.update_ai_llm(conn, state.keyring, llm_id, {"name": "renamed"}) is False
    assert llm_store.update_ai_llm(conn, state.keyring, llm_id,
                               {"secret": SecretStr(SECRET)}) is False  # same value
    assert llm_store.ai_llm_row(conn, llm_id)["validation_status"] == "VALID"

    assert llm_store.update_ai_llm(conn, state.keyring, llm_id, {"key": None}) is True
    row = llm_store.ai_llm_row(conn, llm_id)
    assert row["generation"] == generation + 1
    assert row["validation_status"] == "NOT_VALIDATED"
    assert row["key_mask"] is None and row["key_blob"] is None


def test_a_stale_validation_outcome_is_not_stored(state: PlatformState) -> None:
    conn = state.db.conn()
    llm_id = new_llm(state)
    creds = llm_store.load_credentials(conn, state.keyring, llm_id)
    llm_store.update_ai_llm(conn, state.keyring, llm_id, {"endpoint": "https://api.openai.com/v2"})
    assert llm_store.record_validation(conn, llm_id, creds.generation, True, "Validated") is False
    row = llm_store.ai_llm_row(conn, llm_id)
    assert row["validation_status"] == "NOT_VALIDATED"


def test_changing_the_type_moves_a_default_endpoint_but_keeps_a_custom_one(
    state: PlatformState,
) -> None:
    conn = state.db.conn()
    default = new_llm(state, "default")
    custom = new_llm(state, "custom", endpoint="https://proxy.test/v1")
    for llm_id in (default, custom):
        llm_store.update_ai_llm(conn, state.keyring, llm_id, {"ai_type": AiType.ANTHROPIC,
                                                              "secret": SecretStr("sk-ant-new")})
    assert llm_store.ai_llm_row(conn, default)["endpoint"] == "https://api.anthropic.com/v1"
    assert llm_store.ai_llm_row(conn, custom)["endpoint"] == "https://proxy.test/v1"
    with pytest.raises(store_base.Invalid, match="endpoint"):
        llm_store.update_ai_llm(conn, state.keyring, default, {"ai_type": AiType.OTHER})


def test_list_loads_repos_for_all_configurations_at_once(state: PlatformState) -> None:
    conn = state.db.conn()
    workspace_id, user_id = default_ids(state)
    ids = [new_llm(state, f"cfg-{i}") for i in range(30)]
    for i, llm_id in enumerate(ids[:10]):
        repo_store.add_repo(conn, f"repo-{i % 3}", workspace_id, llm_id)
    with statements_sent(state.db) as statements:
        llms = llm_store.ai_llm_records(conn, user_id)
    assert len(statements) == 2  # configurations, then all their repos
    by_id = {llm.id: llm for llm in llms}
    assert [r.name for r in by_id[ids[0]].repos] == ["repo-0"]
    assert by_id[ids[20]].repos == ()
    assert [llm.id for llm in llms] == list(reversed(ids))  # newest first


def test_delete_is_refused_while_a_repo_uses_the_configuration(state: PlatformState) -> None:
    conn = state.db.conn()
    workspace_id, _ = default_ids(state)
    llm_id = new_llm(state)
    repo_store.add_repo(conn, "docs-bot", workspace_id, llm_id)
    with pytest.raises(store_base.InUse, match="repository 'docs-bot'"):
        llm_store.delete_ai_llm(conn, llm_id)
    conn.execute("DELETE FROM repo_ai_llms")
    llm_store.delete_ai_llm(conn, llm_id)
    assert llm_store.ai_llm_row(conn, llm_id) is None


# -- usage -----------------------------------------------------------------------------------


def test_usage_minutes_feed_totals_and_daily_sums(state: PlatformState) -> None:
    conn = state.db.conn()
    _, user_id = default_ids(state)
    llm_id = new_llm(state)
    day = 1_700_000_000_000 // usage_store.DAY_MS * usage_store.DAY_MS
    usage_store.record_usage(conn, llm_id, at_ms=day + 5_000, api_calls=1, tokens_in=10,
                       tokens_out=20, latency_ms=100.0, num_alerts=1)
    usage_store.record_usage(conn, llm_id, at_ms=day + 30_000, api_calls=1, tokens_in=5,
                       latency_ms=300.0, llm_model="gpt-test")
    usage_store.record_usage(conn, llm_id, at_ms=day + 3 * usage_store.MINUTE_MS, api_calls=2,
                       repo_id="repo-1")

    minutes = usage_store.usage_points(conn, user_id, start_ms=day, end_ms=day + usage_store.DAY_MS)
    assert [(p.timestamp, p.counters["api_calls"], p.repo_id, p.llm_model) for p in minutes] == [
        (day, 1, "", ""), (day, 1, "", "gpt-test"), (day + 3 * usage_store.MINUTE_MS, 2, "repo-1",
                                                     "")]
    assert minutes[0].counters["tokens_in"] == 10 and minutes[0].latency_ms == 100.0
    assert minutes[1].latency_ms == 300.0

    daily = usage_store.usage_points(conn, user_id, start_ms=day, end_ms=day + usage_store.DAY_MS,
                               bucket_ms=usage_store.DAY_MS)
    assert sum(p.counters["api_calls"] for p in daily) == 4
    assert {p.timestamp for p in daily} == {day}

    (totals,) = usage_store.stats_totals(conn, user_id, llm_id)
    assert (totals.api_calls, totals.tokens_in, totals.tokens_out, totals.alerts) == (
        4, 15, 20, 1)
    with pytest.raises(ValueError, match="unknown usage counters"):
        usage_store.record_usage(conn, llm_id, bogus=1)


# -- passwords and tokens --------------------------------------------------------------------


def test_passwords_are_scrypt_hashed_and_verified() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("anything", None)


def test_tokens_are_stored_only_as_digests(state: PlatformState) -> None:
    conn = state.db.conn()
    _, user_id = default_ids(state)
    issued = user_store.issue_token(conn, user_id, "access", 60)
    token = issued.token.get_secret_value()
    stored = [r[0] for r in conn.execute("SELECT token_hash FROM tokens")]
    assert token_digest(token) in stored and token not in stored
    assert user_store.user_for_token(conn, token)["id"] == user_id
    assert user_store.user_for_token(conn, token, kind="refresh") is None
    expired = user_store.issue_token(conn, user_id, "access", -1)
    assert user_store.user_for_token(conn, expired.token.get_secret_value()) is None


def test_refresh_tokens_are_single_use(state: PlatformState) -> None:
    conn = state.db.conn()
    _, user_id = default_ids(state)
    refresh = user_store.issue_token(conn, user_id, "refresh", 60).token.get_secret_value()
    assert user_store.consume_refresh_token(conn, refresh) == user_id
    assert user_store.consume_refresh_token(conn, refresh) is None


# -- change counter and answer cache ---------------------------------------------------------


def test_every_change_of_listed_data_bumps_the_data_version(state: PlatformState) -> None:
    conn = state.db.conn()
    workspace_id, user_id = default_ids(state)
    seen = [store_base.data_version(conn)]

    def bumped() -> bool:
        seen.append(store_base.data_version(conn))
        return seen[-1] != seen[-2]

    llm_id = new_llm(state)
    assert bumped()
    llm_store.update_ai_llm(conn, state.keyring, llm_id, {"name": "renamed"})
    assert bumped()
    llm_store.record_validation(conn, llm_id, 1, True, "ok")
    assert bumped()
    repo_store.add_repo(conn, "repo", workspace_id, llm_id)
    assert bumped()
    usage_before = store_base.data_version(conn, usage=True)
    usage_store.record_usage(conn, llm_id, api_calls=1)
    assert not bumped()  # lists do not show usage
    assert store_base.data_version(conn, usage=True) != usage_before
    other = user_store.create_user(conn, "member@example.test")
    assert bumped()
    workspace_store.set_membership(conn, workspace_id, other, Role.READ)
    assert bumped()
    user_store.issue_token(conn, user_id, "access", 60)
    assert not bumped()  # signing in changes nothing that is listed
    conn.execute("DELETE FROM repo_ai_llms")
    llm_store.delete_ai_llm(conn, llm_id)
    assert bumped()


def test_answer_cache_serves_only_the_same_version_and_evicts_the_oldest() -> None:
    from flashback_tui.server.cache import Answer, AnswerCache

    cache = AnswerCache(max_entries=2)
    builds: list[str] = []

    def build(text: str):
        return lambda: builds.append(text) or text.encode()

    first = cache.get_or_build("a", 1, build("a1"))
    assert first == Answer.of(b"a1") and first.etag.startswith('"') and first.etag.endswith('"')
    assert cache.get_or_build("a", 1, build("again")) == first
    assert cache.get_or_build("a", 2, build("a2")).body == b"a2"
    assert Answer.of(b"a2").etag != first.etag
    cache.put("b", 1, Answer.of(b"b1"))
    cache.put("c", 1, Answer.of(b"c1"))
    assert cache.get("a", 2) is None  # evicted: least recently used
    assert cache.get("c", 1) == Answer.of(b"c1")
    assert builds == ["a1", "a2"]
    assert (cache.hits, cache.misses) == (2, 3)

    small = AnswerCache(max_entries=10, max_bytes=10)
    small.put("x", 1, Answer.of(b"12345"))
    small.put("y", 1, Answer.of(b"123456"))  # over the byte budget: x goes
    assert small.get("x", 1) is None and small.get("y", 1).body == b"123456"
    small.put("y", 2, Answer.of(b"1234"))  # replacing an entry frees its bytes
    assert small.size == 4
    small.put("huge", 1, Answer.of(b"x" * 11))  # larger than the whole budget: not kept
    assert small.get("huge", 1) is None and small.get("y", 2).body == b"1234"


def test_spliced_list_answers_equal_a_full_serialization(state: PlatformState) -> None:
    from flashback_tui.api.models import AiLlmListResponse
    from flashback_tui.server.cache import ItemJsonCache
    from flashback_tui.server.routes.ai_llm_wire import ai_llm_wire

    conn = state.db.conn()
    workspace_id, user_id = default_ids(state)
    plain = new_llm(state, "plain", key=None, secret=None)
    validated = new_llm(state, "validated", endpoint="https://x.test/v1")
    llm_store.record_validation(conn, validated, 1, True, 'Validated: "quoted" \u00e9')
    failed = new_llm(state, "failed")
    llm_store.record_validation(conn, failed, 1, False, "Validation failed: 401")
    new_llm(state, 'na\u00efve "quoted" \\ back\tslash \u2603 \U0001f600 </script>',
            ai_type=AiType.AWS, endpoint="https://bedrock.eu-west-1.amazonaws.com")
    repo_store.add_repo(conn, "repo-a", workspace_id, plain)
    repo_store.add_repo(conn, "repo-b", workspace_id, plain)
    items = ItemJsonCache()

    def both() -> tuple[bytes, bytes]:
        records = llm_store.ai_llm_records(conn, user_id)
        spliced = items.render(AiLlmListResponse(success=True, ai_llms=[]), "aiLlms", records,
                               ai_llm_wire)
        full = AiLlmListResponse.model_validate(
            {"success": True, "aiLlms": [ai_llm_wire(r) for r in records]})
        return spliced, full.model_dump_json(by_alias=True).encode()

    spliced, full = both()
    assert spliced == full
    llm_store.update_ai_llm(conn, state.keyring, validated, {"endpoint": "https://y.test/v1",
                                                             "secret": SecretStr("sk-moved")})
    llm_store.update_ai_llm(conn, state.keyring, plain, {"name": "plain renamed"})
    spliced, full = both()  # two items re-serialized, one reused
    assert spliced == full
    assert b"plain renamed" in spliced and b'"validationStatus":"NOT_VALIDATED"' in spliced
    assert items.render(AiLlmListResponse(success=True, ai_llms=[]), "aiLlms", [],
                        ai_llm_wire) == (
        b'{"success":true,"aiLlms":[]}')
