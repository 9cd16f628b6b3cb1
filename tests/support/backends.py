"""The two databases the server and gateway suites run on: SQLite and PostgreSQL.

Each test of those suites runs once per backend (``test_x[sqlite]``, ``test_x[postgres]``,
through the ``db_backend`` fixture) unless it is marked ``sqlite_only`` (it looks at SQLite's
files themselves) or ``postgres_only`` (it needs a database server: its connections, its
outages). On PostgreSQL, a test that uses the shared ``platform`` reads and writes that
platform's database; any other test gets a fresh database of its own, through the same
environment variables an operator would set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import postgres_env

SQLITE = "sqlite"
POSTGRES = "postgres"
BACKENDS = (SQLITE, POSTGRES)


def backend_env(backend: str) -> dict[str, str]:
    """What a platform's environment needs for ``backend`` (a fresh database on PostgreSQL)."""
    return postgres_env() if backend == POSTGRES else {}


def parametrize_backends(metafunc: pytest.Metafunc) -> None:
    """Run a test on both backends, or on one alone when it is marked ``sqlite_only`` or
    ``postgres_only``."""
    if "db_backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker
    backends = [SQLITE] if marker("sqlite_only") else [POSTGRES] if marker(
        "postgres_only") else list(BACKENDS)
    metafunc.parametrize("db_backend", backends, indirect=True, scope="session")


def database_for_the_test(request: pytest.FixtureRequest, db_backend: str,
                          monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the test's own platform state at its database (nothing to do on SQLite)."""
    if db_backend == POSTGRES:
        env = None
        if "platform" in request.fixturenames:
            env = getattr(request.getfixturevalue("platform"), "env", None)
        for name, value in (env or postgres_env()).items():
            monkeypatch.setenv(name, value)
    yield
