"""A real PostgreSQL for the tests: one server per test process, a fresh database per use.

The server comes from the ``pgserver`` package (PostgreSQL's own binaries, started in a
temporary directory) and listens only on a Unix socket in that directory. Each platform
the tests start gets a database of its own, so tests never see each other's rows.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

#: The master key every PostgreSQL-backed platform of the tests uses.
TEST_MASTER_KEY = base64.b64encode(b"flashback-tui-tests-master-key!!").decode()

_lock = threading.Lock()
_server = None


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


def fresh_database_url() -> str:
    """A new, empty database on this process's server."""
    name = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _running_server().psql(f'CREATE DATABASE "{name}";')
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def postgres_env(url: str | None = None) -> dict[str, str]:
    """The environment that points a platform at PostgreSQL (a fresh database by default)."""
    return {"FLASHBACK_DATABASE_URL": url or fresh_database_url(),
            "FLASHBACK_MASTER_KEY": TEST_MASTER_KEY}
