"""The two databases the server and gateway suites run on: SQLite and PostgreSQL.

Each test of those suites runs once per backend (``test_x[sqlite]``, ``test_x[postgres]``,
through the ``db_backend`` fixture) unless it is marked ``sqlite_only`` (it looks at SQLite's
files themselves), ``postgres_only`` (it needs a database server: its connections, its
outages) or ``no_database`` (it touches no database at all, so it runs once, on neither). On
PostgreSQL, a test that uses the shared ``platform`` reads and writes that platform's
database; any other test gets a fresh database of its own, through the same environment
variables an operator would set, and gives it back when it ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from flashback_tui.server.db import DATABASE_URL_ENV
from tests.support.postgres import fresh_database_url, postgres_env, release_database

SQLITE = "sqlite"
POSTGRES = "postgres"
BACKENDS = (SQLITE, POSTGRES)


def backend_env(backend: str) -> dict[str, str]:
    """What a platform's environment needs for ``backend`` (a fresh database on PostgreSQL)."""
    return postgres_env() if backend == POSTGRES else {}


def empty_database_env(backend: str) -> dict[str, str]:
    """A database without any schema: a new PostgreSQL database, or on SQLite nothing (a new
    data dir's file is empty)."""
    return postgres_env(fresh_database_url()) if backend == POSTGRES else {}


def database_env() -> dict[str, str]:
    """The database of this test's own platform state (``FLASHBACK_DATABASE_URL`` on
    PostgreSQL, set by :func:`database_for_the_test`; nothing on SQLite), to build a whole
    environment around it."""
    url = os.environ.get(DATABASE_URL_ENV)
    return {DATABASE_URL_ENV: url} if url else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test on both backends, on one alone when it is marked ``sqlite_only`` or
    ``postgres_only``, or once when it is marked ``no_database``.

    A suite's conftest imports this hook and :func:`database_for_the_test` to run on both.
    """
    if "db_backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker
    if marker("no_database"):
        return
    backends = [SQLITE] if marker("sqlite_only") else [POSTGRES] if marker(
        "postgres_only") else list(BACKENDS)
    metafunc.parametrize("db_backend", backends, indirect=True, scope="session")


@pytest.fixture(autouse=True)
def database_for_the_test(request: pytest.FixtureRequest, db_backend: str,
                          monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the test's own platform state at its database (nothing to do on SQLite)."""
    if db_backend != POSTGRES:
        yield
        return
    shared = None
    if "platform" in request.fixturenames:
        shared = getattr(request.getfixturevalue("platform"), "env", None)
    env = shared or postgres_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield
    if not shared:
        release_database(env[DATABASE_URL_ENV])
