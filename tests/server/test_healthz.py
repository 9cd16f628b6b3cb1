"""``/healthz`` follows the database: 503 while PostgreSQL is gone, 200 as soon as it is back.

The platform runs in a child process on a database of its own. The database "goes away" the
way a restart or a fail-over looks to a client: every connection to it is terminated and new
ones are refused; it "comes back" when connections are allowed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from flashback_tui.server.db import Database
from flashback_tui.server.runner import LocalServer
from tests.support.postgres import fresh_database_url, postgres_env, server_url

pytestmark = pytest.mark.postgres_only

#: Requests a check makes in a row: enough to reach several of the server's worker threads,
#: each with a connection of its own.
PROBES = 12


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[tuple[LocalServer, str]]:
    """A platform serving a fresh PostgreSQL database, and that database's name."""
    url = fresh_database_url()
    server = LocalServer(tmp_path / "data", env=postgres_env(url))
    server.start()
    try:
        yield server, str(make_url(url).database)
    finally:
        server.stop()


def _maintenance() -> Database:
    """A connection to the server's maintenance database, to act on the platform's."""
    return Database(Path("."), url=server_url())


def _take_away(name: str) -> None:
    """Refuse new connections to the database and end the ones it has."""
    admin = _maintenance()
    try:
        conn = admin.conn()
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = ? AND pid <> pg_backend_pid()", (name,))
    finally:
        admin.close()


def _bring_back(name: str) -> None:
    admin = _maintenance()
    try:
        admin.conn().execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        admin.close()


def _answers(url: str) -> list[httpx.Response]:
    with httpx.Client(base_url=url, timeout=15) as http:
        return [http.get("/healthz") for _ in range(PROBES)]


def test_healthz_is_503_while_the_database_is_gone_and_200_once_it_is_back(
        own_database: tuple[LocalServer, str]) -> None:
    server, name = own_database
    assert {(a.status_code, a.json()["database"]) for a in _answers(server.url)} == {
        (200, "ok")}

    _take_away(name)
    gone = _answers(server.url)
    assert {a.status_code for a in gone} == {503}
    for answer in gone:
        body = answer.json()
        assert body["success"] is False
        assert body["database"] == "the database server refused"
        assert name not in answer.text and "postgres" not in answer.text.lower()

    _bring_back(name)
    back = _answers(server.url)
    assert [a.status_code for a in back] == [200] * PROBES
    assert {a.json()["database"] for a in back} == {"ok"}
    # Not only the health check: the platform's own reads work again on every thread.
    token = server.admin_token.get_secret_value()
    with httpx.Client(base_url=server.url, timeout=15,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        assert [http.get("/workspace").status_code for _ in range(PROBES)] == [200] * PROBES
