"""Shared fixtures: the real local platform on a loopback port, and a fresh world per test.

``platform`` (session scope) runs ``flashback-tui serve --embedded`` in a child process with
a temporary data dir. ``world`` (function scope) adds a new workspace to it with one user per
role (READ, WRITE, ADMIN) plus a user in no workspace (NONE), each with an access token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flashback_tui.api.models import Role
from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store
from tests.support.backends import SQLITE, backend_env

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: Validation probes give up quickly in tests (the loopback provider answers at once).
PROBE_TIMEOUT = "2"

ROLES = ("READ", "WRITE", "ADMIN")


@dataclass
class PlatformHandle:
    """The running local platform: where it listens and the admin@localhost token."""

    url: str
    data_dir: Path
    admin_token: str
    server: LocalServer
    #: What points a process at this platform's database (empty on SQLite).
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """A fresh workspace with one user per role, and a user who belongs nowhere."""

    workspace_id: str
    workspace_name: str
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database under the platform: ``sqlite`` unless a suite runs on both."""
    return getattr(request, "param", SQLITE)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, db_backend: str
             ) -> Iterator[PlatformHandle]:
    """The local platform, started once per test session (per xdist worker) and backend."""
    data_dir = tmp_path_factory.mktemp(f"platform-{db_backend}")
    database = backend_env(db_backend)
    server = LocalServer(data_dir, env={"FLASHBACK_PROBE_TIMEOUT": PROBE_TIMEOUT, **database})
    server.start()
    try:
        yield PlatformHandle(url=server.url, data_dir=data_dir,
                             admin_token=server.admin_token.get_secret_value(), server=server,
                             env=database)
    finally:
        server.stop()


def make_world(data_dir: Path) -> World:
    """Create a workspace and users for every role directly in the data dir's database (as
    the ``admin`` commands do, through one connection)."""
    tag = uuid.uuid4().hex[:10]
    name = f"ws-{tag}"
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        world = World(workspace_id=workspace_store.create_workspace(conn, name),
                      workspace_name=name)
        for role in (*ROLES, "NONE"):
            email = f"{role.lower()}-{tag}@example.test"
            world.emails[role] = email
            user_id = user_store.create_user(conn, email, name=f"{role.title()} user")
            world.user_ids[role] = user_id
            if role != "NONE":
                workspace_store.set_membership(conn, world.workspace_id, user_id, Role(role))
            issued = user_store.issue_token(conn, user_id, "access", admin.ADMIN_TOKEN_TTL)
            world.tokens[role] = issued.token.get_secret_value()
    return world


@pytest.fixture(autouse=True)
def _org_wide_policies_stay_in_their_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Org-wide policies apply to every workspace of the shared platform: remove those a test
    made when it ends, so they never match another test's prompts or fill its lists."""
    yield
    if "platform" not in request.fixturenames:
        return
    import httpx

    handle = request.getfixturevalue("platform")
    if not isinstance(handle, PlatformHandle):  # a module's own platform, gone with it
        return
    headers = {"Authorization": f"Bearer {handle.admin_token}"}
    with httpx.Client(base_url=handle.url, headers=headers, timeout=10) as http:
        org_id = http.get("/user/profile").json()["data"]["orgId"]
        for policy in http.get("/policy", params={"orgId": org_id}).json().get("policies", []):
            if policy.get("workspaceId") is None and policy.get("repoId") is None:
                http.delete(f"/policy/{policy['id']}")


@pytest.fixture
def world(platform: PlatformHandle) -> World:
    """A new workspace on ``platform`` with READ, WRITE, ADMIN and NONE users and tokens."""
    return make_world(platform.data_dir)


#: Environment a developer's shell may carry that would steer profile and token resolution.
_USER_ENV = ("FLASHBACK_TOKEN", "FLASHBACK_URL", "FLASHBACK_PROFILE", "FLASHBACK_DATA_DIR",
             "FLASHBACK_KEYRING_TIMEOUT")


@pytest.fixture
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config dir and HOME of the test's own, and none of the shell's FLASHBACK_* choices."""
    config = tmp_path / "config"
    monkeypatch.setenv("FLASHBACK_CONFIG_DIR", str(config))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in _USER_ENV:
        monkeypatch.delenv(name, raising=False)
    return config


@pytest.fixture
def use_keyring() -> Iterator[Callable[[KeyringBackend], KeyringBackend]]:
    """Install a keyring backend for this test (as keyring.set_keyring does for users)."""
    import keyring

    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)
