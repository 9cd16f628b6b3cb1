"""The schema on both databases: migrations from empty, from before Alembic, failed or too
new; how text sorts; what reopening keeps."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from flashback_tui.api.models import Role
from flashback_tui.server.db import DATABASE_URL_ENV, Database
from flashback_tui.server.migrations import HEAD, SCRIPT_LOCATION, SchemaTooNew, current_revision
from flashback_tui.server.migrations.run import sqlite_statements
from flashback_tui.server.migrations.sqlite_scripts import SQLITE_SCRIPTS
from flashback_tui.server.sql import POSTGRESQL, DBAPIError, OperationalError, table_exists
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store
from tests.support.backends import empty_database_env
from tests.support.store_state import SECRET, default_ids, new_llm


def test_an_empty_database_is_migrated_and_bootstrapped(tmp_path: Path, db_backend: str
                                                        ) -> None:
    env = {**os.environ, **empty_database_env(db_backend)}
    with PlatformState.open(tmp_path, env=env) as state:
        conn = state.db.conn()
        assert current_revision(conn) == HEAD == _alembic_head()
        admin_user = user_store.require_user(conn, store_base.LOCAL_ADMIN_EMAIL)
        assert admin_user["password_hash"] is None
        workspace = workspace_store.find_workspace(conn, "Default")
        assert workspace_store.role_in(conn, admin_user["id"], workspace["id"]) is Role.ADMIN


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(state: PlatformState) -> None:
    conn = state.db.conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return ScriptDirectory.from_config(config).get_current_head()


#: TEXT columns of PostgreSQL that no list is ordered by, so they keep the database's own
#: collation (revision 0008's keys). Any other sorts by code point: a new one is created
#: with ``COLLATE "C"`` on PostgreSQL, or named here if nothing will ever sort by it.
NEVER_SORTED = {
    ("login_failures", "email"), ("login_failures", "address"),
    *(("usage_conversations", column)
      for column in ("ai_llm_id", "repo_id", "repo_ai_api_key_id", "conversation_uuid")),
}


def test_lists_sort_text_by_code_point_on_both_databases(state: PlatformState) -> None:
    conn = state.db.conn()
    workspace_id, user_id = default_ids(state)
    llm_id = new_llm(state)
    names = ["b", "A", "_a", "a-b", "ab", "\u00e9", "Z", "a b"]
    for name in names:
        repo_store.add_repo(conn, name, workspace_id, llm_id)
    listed = [r.name for r in llm_store.ai_llm_records(conn, user_id)[0].repos]
    assert listed == sorted(names)
    if conn.dialect == POSTGRESQL:  # whatever the database's locale, as SQLite's BINARY
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'text'"
            " AND collation_name IS DISTINCT FROM 'C'").fetchall()
        assert {(table, column) for table, column in rows} == NEVER_SORTED


def test_reopening_keeps_data_and_bootstraps_once(tmp_path: Path) -> None:
    with PlatformState.open(tmp_path) as first:
        llm_id = new_llm(first)
    with PlatformState.open(tmp_path) as second:
        conn = second.db.conn()
        assert conn.execute("SELECT COUNT(*) FROM orgs").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
        creds = llm_store.load_credentials(conn, second.keyring, llm_id)
        assert creds.secret is not None and creds.secret.get_secret_value() == SECRET


def _legacy_data_dir(data_dir: Path, version: int) -> Path:
    """A data dir as a release before Alembic left it: scripts 1..version, schema_version."""
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "flashback.db", isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, script in enumerate(SQLITE_SCRIPTS[:version], start=1):
        for statement in sqlite_statements(script):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
    conn.execute("INSERT INTO orgs VALUES ('org-1', 'Old org', '2025-01-01T00:00:00.000Z')")
    conn.close()
    return data_dir


@pytest.mark.sqlite_only  # releases before Alembic knew SQLite alone
def test_a_data_dir_from_before_alembic_is_stamped_and_upgraded(tmp_path: Path) -> None:
    data_dir = _legacy_data_dir(tmp_path / "old", 5)
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        assert current_revision(conn) == HEAD
        assert conn.execute("SELECT name FROM orgs WHERE id = 'org-1'").fetchone()[0] == "Old org"
        assert conn.execute("SELECT COUNT(*) FROM usage_daily").fetchone()[0] == 0


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, db_backend: str) -> None:
    env = {**os.environ, **empty_database_env(db_backend)}
    db = Database(tmp_path, url=env.get(DATABASE_URL_ENV))
    try:
        db.conn().execute("CREATE TABLE usage_daily (x INTEGER)")  # no revision can create it
        with pytest.raises(DBAPIError):
            PlatformState.open(tmp_path, env=env)
        assert not table_exists(db.conn(), "alembic_version")
        assert not table_exists(db.conn(), "orgs")  # one transaction: every table or none
    finally:
        db.close()


@pytest.mark.sqlite_only  # releases before Alembic knew SQLite alone
def test_a_failing_migration_leaves_the_previous_revision(tmp_path: Path) -> None:
    data_dir = _legacy_data_dir(tmp_path / "old", 6)
    raw = sqlite3.connect(data_dir / "flashback.db")
    raw.execute("CREATE TABLE usage_daily (x INTEGER)")  # revision 0007 cannot create it
    raw.commit()
    raw.close()
    with pytest.raises(OperationalError):
        PlatformState.open(data_dir)
    raw = sqlite3.connect(data_dir / "flashback.db")
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    indexes = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    raw.close()
    assert "alembic_version" not in tables  # not even the stamp: one transaction
    assert "system_events_by_at" not in indexes


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    with PlatformState.open(tmp_path) as state:
        state.db.conn().execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(SchemaTooNew, match="upgrade flashback-tui"):
        PlatformState.open(tmp_path)
