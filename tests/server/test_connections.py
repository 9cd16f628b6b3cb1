"""How many database connections a platform holds: one per live thread, and at most
``FLASHBACK_WORKER_THREADS`` request threads (what sizing PostgreSQL's max_connections
for N replicas rests on)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flashback_tui.server.db import Database
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.sql import POSTGRESQL, WRITE_LOCK, transaction
from flashback_tui.server.state import open_database
from tests.support.postgres import fresh_database_url, postgres_env


def _wait_for_backends(db: Database, count: int, deadline: float = 20.0) -> None:
    """Until PostgreSQL counts ``count`` connections to the database (a closed connection's
    server process ends a moment after the close)."""
    give_up = time.monotonic() + deadline
    while (found := db.conn().execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = ?",
            (db.url.database,)).fetchone()[0]) != count:
        assert time.monotonic() < give_up, f"{found} connections, not {count}"
        time.sleep(0.02)


def test_a_threads_connection_closes_when_the_thread_ends(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    try:
        db.migrate()
        workers = [threading.Thread(target=lambda: db.conn().execute("SELECT 1"))
                   for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert db.open_connections == 1  # this thread's, from migrate()
        if db.dialect == POSTGRESQL:
            _wait_for_backends(db, 1)
    finally:
        db.close()


@pytest.fixture
def one_worker(tmp_path: Path) -> Iterator[tuple[LocalServer, Database]]:
    """A platform on PostgreSQL with one request thread, and a connection of the test's."""
    url = fresh_database_url()
    server = LocalServer(tmp_path / "data",
                         env={**postgres_env(url), "FLASHBACK_WORKER_THREADS": "1"})
    server.start()
    outside = Database(tmp_path, url=url)
    try:
        yield server, outside
    finally:
        outside.close()
        server.stop()


def _wait_for_a_lock_waiter(db: Database, deadline: float = 20.0) -> None:
    """Until a connection of the database waits for the write lock (read from pg_locks:
    pg_stat_activity would show the snapshot the caller's transaction took)."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        waiting = db.conn().execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("no request ever waited for the write lock")


@pytest.mark.postgres_only
def test_requests_wait_for_the_worker_threads_setting(
        one_worker: tuple[LocalServer, Database]) -> None:
    server, outside = one_worker
    token = server.admin_token.get_secret_value()
    http = httpx.Client(base_url=server.url, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    created: list[int] = []
    conn = outside.conn()
    with transaction(conn):
        conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))  # held by the test
        writer = threading.Thread(target=lambda: created.append(
            http.post("/workspace", json={"name": "waits"}).status_code))
        writer.start()
        _wait_for_a_lock_waiter(outside)  # the one request thread now waits for the lock
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{server.url}/healthz", timeout=1.0)
    writer.join(timeout=30)
    assert created == [200]
    assert http.get("/healthz").status_code == 200
    http.close()
