"""The local platform's SQLite database: one file, WAL, foreign keys, numbered migrations.

Every process that touches the data dir (the server, the ``admin`` commands, tests) opens
its own connections through :class:`Database`. WAL mode plus a busy timeout lets the admin
commands write while the server runs. Connections are per thread, so FastAPI's threadpool
workers never share one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_FILENAME = "flashback.db"
BUSY_TIMEOUT_MS = 10_000

#: Numbered migrations; entry N (1-based) moves the schema from version N-1 to N.
#: Append only: never edit a migration that has shipped.
MIGRATIONS: list[str] = [
    # 1: the whole initial schema.
    """
    CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT,
        last_name TEXT,
        org_role TEXT NOT NULL DEFAULT 'USER',
        password_hash TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE memberships (
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('READ', 'WRITE', 'ADMIN')),
        PRIMARY KEY (workspace_id, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships(user_id);
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        expires_at INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX tokens_by_user ON tokens(user_id);
    CREATE TABLE ai_llms (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        ai_type TEXT NOT NULL,
        endpoint TEXT,
        key_mask TEXT,
        key_kid TEXT,
        key_blob BLOB,
        secret_kid TEXT,
        secret_blob BLOB,
        api_key_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 1,
        validation_status TEXT NOT NULL DEFAULT 'NOT_VALIDATED'
            CHECK (validation_status IN ('VALID', 'INVALID', 'NOT_VALIDATED')),
        validation_message TEXT,
        validated_at TEXT,
        validated_generation INTEGER,
        UNIQUE (workspace_id, name)
    );
    CREATE INDEX ai_llms_by_created ON ai_llms(created_at);
    CREATE TABLE repos (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE repo_ai_llms (
        repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE RESTRICT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (repo_id, ai_llm_id)
    );
    CREATE INDEX repo_ai_llms_by_llm ON repo_ai_llms(ai_llm_id);
    CREATE TABLE usage_totals (
        ai_llm_id TEXT PRIMARY KEY REFERENCES ai_llms(id) ON DELETE CASCADE,
        api_calls INTEGER NOT NULL DEFAULT 0,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0,
        blocks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE usage_minute (
        minute INTEGER NOT NULL,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE CASCADE,
        repo_id TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL DEFAULT '',
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        active_conversations INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        num_alerts INTEGER NOT NULL DEFAULT 0,
        num_blocks INTEGER NOT NULL DEFAULT 0,
        num_severity_low INTEGER NOT NULL DEFAULT 0,
        num_severity_medium INTEGER NOT NULL DEFAULT 0,
        num_severity_high INTEGER NOT NULL DEFAULT 0,
        latency_ms_total REAL NOT NULL DEFAULT 0,
        llm_type TEXT,
        llm_model TEXT,
        host TEXT,
        PRIMARY KEY (ai_llm_id, minute, repo_id, repo_ai_api_key_id)
    );
    CREATE INDEX usage_minute_by_minute ON usage_minute(minute);
    """,
    # 2: repository AI API keys (only a digest of the secret is stored) and workspace policies.
    """
    CREATE TABLE repo_ai_api_keys (
        id TEXT PRIMARY KEY,
        repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        ai_type TEXT NOT NULL,
        public_key TEXT NOT NULL UNIQUE,
        secret_hash TEXT NOT NULL UNIQUE,
        secret_mask TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (repo_id, name)
    );
    CREATE TABLE policies (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        risk_type TEXT NOT NULL CHECK (risk_type IN ('LOW', 'MEDIUM', 'HIGH')),
        action_type INTEGER NOT NULL CHECK (action_type IN (1, 2)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (workspace_id, name)
    );
    """,
    # 3: a counter that every change of listed data bumps, so answers can be cached safely.
    """
    CREATE TABLE change_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );
    INSERT INTO change_counter (id, value) VALUES (1, 0);
    CREATE TRIGGER workspaces_insert_counts AFTER INSERT ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER workspaces_update_counts AFTER UPDATE ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER workspaces_delete_counts AFTER DELETE ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_insert_counts AFTER INSERT ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_update_counts AFTER UPDATE ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_delete_counts AFTER DELETE ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_insert_counts AFTER INSERT ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_update_counts AFTER UPDATE ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_delete_counts AFTER DELETE ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_insert_counts AFTER INSERT ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_update_counts AFTER UPDATE ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_delete_counts AFTER DELETE ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_insert_counts AFTER INSERT ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_update_counts AFTER UPDATE ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_delete_counts AFTER DELETE ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_insert_counts AFTER INSERT ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_update_counts AFTER UPDATE ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_delete_counts AFTER DELETE ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_insert_counts AFTER INSERT ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_update_counts AFTER UPDATE ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_delete_counts AFTER DELETE ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    """,
    # 4: usage has its own counter, so gateway traffic does not invalidate cached lists.
    """
    DROP TRIGGER usage_totals_insert_counts;
    DROP TRIGGER usage_totals_update_counts;
    DROP TRIGGER usage_totals_delete_counts;
    CREATE TABLE usage_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );
    INSERT INTO usage_counter (id, value) VALUES (1, 0);
    CREATE TRIGGER usage_totals_insert_counts AFTER INSERT ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_update_counts AFTER UPDATE ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_delete_counts AFTER DELETE ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def db_path(data_dir: Path) -> Path:
    """The database file inside a data dir."""
    return Path(data_dir) / DB_FILENAME


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data dir with mode 0700 if it does not exist, and return it.

    An existing directory keeps its mode (it may be one the user chose and shares); the
    files with secrets in it are 0600 either way.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)  # mkdir's mode is filtered by the umask
    return data_dir


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (explicit transactions), WAL, foreign keys on."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes of the app
    conn.execute("PRAGMA cache_size = -1024")  # 1 MB per connection (one per thread)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """BEGIN (IMMEDIATE by default, so writers queue on the busy timeout) ... COMMIT/ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The applied schema version (0 for an empty database)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _applied_version(conn: sqlite3.Connection) -> int | None:
    """The schema version by a plain read, or None before the version table exists."""
    try:
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Apply every pending migration, each in its own transaction; return the new version."""
    migrations = MIGRATIONS if migrations is None else migrations
    if _applied_version(conn) == len(migrations):
        return len(migrations)  # the usual case: no write lock taken at all
    with transaction(conn):
        current = schema_version(conn)
    if current > len(migrations):
        raise RuntimeError(
            f"the database has schema version {current}, newer than this program "
            f"({len(migrations)}); upgrade flashback-tui"
        )
    for number in range(current + 1, len(migrations) + 1):
        with transaction(conn):
            if schema_version(conn) >= number:  # another process got there first
                continue
            for statement in _statements(migrations[number - 1]):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return len(migrations)


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (executescript would commit implicitly)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \n\t;"):
        yield buffer.strip()


class Database:
    """The database of one data dir: one connection per thread, closed together."""

    def __init__(self, data_dir: Path) -> None:
        self.path = db_path(data_dir)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def migrate(self) -> int:
        """Bring the schema up to date."""
        return migrate(self.conn())

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (used by tests that inspect the bytes on disk)."""
        self.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close every connection opened through this object."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
