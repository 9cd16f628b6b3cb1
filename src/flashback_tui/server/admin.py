"""Administration of a data dir without the HTTP API: users, workspaces, tokens, keys.

Plain functions used by the ``flashback-tui admin`` commands and by tests. They open the
data dir directly and work while the server runs (SQLite WAL plus a busy timeout). Errors
are :class:`flashback_tui.server.store.base.StoreError` subclasses with a readable message.
Changes are recorded as system events made by the platform itself (no signed-in user).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from flashback_tui.api.models import OrgRole, Role
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store

#: Lifetime of tokens made by ``admin token create`` (meant for scripts): 30 days.
ADMIN_TOKEN_TTL = 30 * 24 * 3600


def parse_org_role(value: str | int) -> int:
    """An org role from a name (``OWNER``, any case) or a number (``255``); Invalid otherwise."""
    text = str(value).strip()
    if text.isdigit():
        return user_store.check_org_role(int(text))
    try:
        return int(OrgRole[text.upper()])
    except KeyError:
        names = ", ".join(role.name for role in OrgRole)
        raise store_base.Invalid(f"org role: must be one of {names} (or its number)") from None


def add_user(
    data_dir: Path,
    email: str,
    password: str | SecretStr | None = None,
    name: str | None = None,
    org_role: str | int = OrgRole.USER,
) -> str:
    """Add a user (optionally with a password for ``/user/login``); return its id."""
    from flashback_tui.server.security import hash_password

    role = parse_org_role(org_role)
    if isinstance(password, SecretStr):
        password = password.get_secret_value()
    password_hash = hash_password(password) if password else None
    with PlatformState.open(data_dir) as state:
        return user_store.create_user(state.db.conn(), email, password_hash=password_hash,
                                      name=name, org_role=role)


def add_workspace(data_dir: Path, name: str) -> str:
    """Add a workspace (with no members yet); return its id."""
    with PlatformState.open(data_dir) as state:
        return workspace_store.create_workspace(state.db.conn(), name)


def _role(role: Role | str) -> Role:
    try:
        return Role(str(role).upper())
    except ValueError:
        raise store_base.Invalid("role: must be READ, WRITE or ADMIN") from None


def add_member(data_dir: Path, workspace: str, email: str, role: Role | str) -> None:
    """Give the user ``email`` the role READ, WRITE or ADMIN in ``workspace`` (name or id)."""
    role = _role(role)
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        ws = workspace_store.find_workspace(conn, workspace)
        user = user_store.require_user(conn, email)
        workspace_store.set_membership(conn, ws["id"], user["id"], role)


def remove_member(data_dir: Path, workspace: str, email: str) -> None:
    """Take the user ``email`` out of ``workspace``; InUse for its last ADMIN."""
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        ws = workspace_store.find_workspace(conn, workspace)
        user = user_store.require_user(conn, email)
        workspace_store.remove_member(conn, ws["id"], user["id"])


def create_token(data_dir: Path, email: str, *, ttl_seconds: float = ADMIN_TOKEN_TTL) -> str:
    """Issue a bearer access token for ``email`` and return it."""
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        user = user_store.require_user(conn, email)
        issued = user_store.issue_token(conn, user["id"], "access", ttl_seconds)
    return issued.token.get_secret_value()


def add_repo(data_dir: Path, name: str, workspace: str, llm_id: str) -> str:
    """Create (or reuse) repository ``name`` in ``workspace`` and link configuration ``llm_id``."""
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        ws = workspace_store.find_workspace(conn, workspace)
        return repo_store.add_repo(conn, name, ws["id"], llm_id)


def rotate_key(data_dir: Path) -> int:
    """Seal every secret under a new master key and retire the old ones; the number re-sealed.

    See :func:`flashback_tui.server.maintenance.rotate_key` for the options.
    """
    from flashback_tui.server import maintenance

    return maintenance.rotate_key(data_dir).resealed
