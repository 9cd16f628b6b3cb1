"""A real PostgreSQL for the tests: one server per test process, a fresh database per use.

The server comes from the ``pgserver`` package (PostgreSQL's own binaries, started in a
temporary directory) and listens only on a Unix socket in that directory. Each platform
the tests start gets a database of its own, so tests never see each other's rows.

:func:`fresh_database_url` gives a new database without any schema. The platforms of the
tests get theirs from :func:`migrated_database_url`: a copy of a template this process
migrates once (``CREATE DATABASE ... TEMPLATE`` copies a few files, where running the
migrations again would cost far more for every test). A test that ends without having opened
such a database gives it back for the next one (:func:`release_database`); any other is
dropped.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

#: The master key every PostgreSQL-backed platform of the tests uses.
TEST_MASTER_KEY = base64.b64encode(b"flashback-tui-tests-master-key!!").decode()

_lock = threading.RLock()
_server = None
#: This process's connection to the maintenance database (autocommit), for CREATE/DROP.
_admin: Any = None
#: The migrated database fresh ones are copied from, once made.
_template: str | None = None
#: Fresh databases that tests gave back untouched, ready for the next ones.
_spare: list[str] = []
#: Whether a database is as the template left it: no org (every platform that opens a
#: database bootstraps one), no change counted, and the template's tables alone.
_UNTOUCHED = (
    "SELECT (SELECT count(*) FROM orgs) = 0"
    " AND (SELECT value FROM change_counter) = 0 AND (SELECT value FROM usage_counter) = 0"
    " AND (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()) = %s"
)
#: How many tables the template has.
_template_tables = 0


def _running_server():
    """This process's PostgreSQL, started on first use (stopped when the process exits)."""
    global _server
    with _lock:
        if _server is None:
            import pgserver

            pgdata = Path(tempfile.mkdtemp(prefix="flashback-pg-"))
            _server = pgserver.get_server(pgdata, cleanup_mode="delete")
            _server.psql("ALTER SYSTEM SET fsync = off;")
            _server.psql("ALTER SYSTEM SET synchronous_commit = off;")
            _server.psql("ALTER SYSTEM SET full_page_writes = off;")
            _server.psql("ALTER SYSTEM SET max_connections = 400;")
            _restart(_server)
        return _server


def _restart(server) -> None:
    """Apply settings that need a restart (``pg_ctl restart`` keeps the socket options).

    The restarted postmaster has a new pid: ``ensure_postgres_running()`` reads it from
    ``postmaster.pid``, so that pgserver stops this server, not the one that exited, when
    the process ends (else the server outlives its deleted data directory).
    """
    import pgserver

    pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata,
                    user=server.system_user, timeout=30)
    server.ensure_postgres_running()


def server_url() -> str:
    """The URL of the maintenance database (``postgres``)."""
    return _running_server().get_uri()


def server_pid() -> int:
    """The pid of this process's PostgreSQL server (its postmaster)."""
    pid = _running_server().get_pid()
    assert pid is not None
    return pid


def _url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def _execute(statement: str) -> None:
    """Run one statement on the maintenance database, through a connection kept for the
    process (a new one if the server ended the last)."""
    global _admin
    import psycopg

    with _lock:
        if _admin is not None and not _admin.closed:
            try:
                _admin.execute(statement)
                return
            except psycopg.OperationalError:
                if not _admin.closed:
                    raise
        _admin = psycopg.connect(server_url(), autocommit=True)
        _admin.execute(statement)


def _create(template: str) -> str:
    """A new database copied from ``template``; its URL."""
    name = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    # FILE_COPY copies the template's files: cheaper than WAL_LOG's page by page for
    # databases this small, and the server does not need their WAL (fsync is off anyway).
    _execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return _url(name)


def _migrated_template() -> str:
    """The name of this process's migrated template database (made on first use)."""
    global _template, _template_tables
    with _lock:
        if _template is None:
            from flashback_tui.server.db import Database

            url = _create("template0")
            database = Database(Path(tempfile.gettempdir()), url=url)
            try:
                database.migrate()
                _template_tables = database.conn().execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchone()[0]
            finally:
                database.close()
            _template = str(make_url(url).database)
        return _template


def fresh_database_url() -> str:
    """A new, empty database on this process's server."""
    return _create("template0")


def migrated_database_url() -> str:
    """A new database on this process's server, at the newest schema revision, with no rows
    of a platform yet (the first platform to open it bootstraps it)."""
    with _lock:
        if _spare:
            return _spare.pop()
    return _create(_migrated_template())


def release_database(url: str) -> None:
    """A test is done with a database from :func:`migrated_database_url`: keep it for the
    next test if nothing opened it, else drop it."""
    import psycopg

    libpq_url = make_url(url).set(drivername="postgresql")
    try:
        with psycopg.connect(libpq_url.render_as_string(hide_password=False)) as conn:
            untouched = conn.execute(_UNTOUCHED, (_template_tables,)).fetchone()[0]
    except psycopg.Error:
        untouched = False
    if untouched:
        with _lock:
            _spare.append(url)
    else:
        drop_database(url)


def drop_database(url: str) -> None:
    """Remove a database made here, ending any connection still open to it."""
    _execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def postgres_env(url: str | None = None) -> dict[str, str]:
    """The environment that points a platform at PostgreSQL (by default a new database at the
    newest schema revision)."""
    return {"FLASHBACK_DATABASE_URL": url or migrated_database_url(),
            "FLASHBACK_MASTER_KEY": TEST_MASTER_KEY}
