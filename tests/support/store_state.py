"""A platform state of a test's own, below HTTP: its default workspace, its admin, and
configurations made straight through the store."""

from __future__ import annotations

from pydantic import SecretStr

from flashback_tui.api.models import AiType
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store

#: The secret of the configurations :func:`new_llm` makes unless told otherwise.
SECRET = "sk-storage-secret-0123456789"


def default_ids(state: PlatformState) -> tuple[str, str]:
    """The ids of the bootstrapped Default workspace and local admin."""
    conn = state.db.conn()
    return (workspace_store.find_workspace(conn, "Default")["id"],
            user_store.require_user(conn, store_base.LOCAL_ADMIN_EMAIL)["id"])


def new_llm(state: PlatformState, name: str = "cfg", **fields) -> str:
    """An OPENAI configuration in the Default workspace (``fields`` override its values)."""
    workspace_id, user_id = default_ids(state)
    values = {"ai_type": AiType.OPENAI, "endpoint": None, "key": SecretStr("AKIA-key-123456"),
              "secret": SecretStr(SECRET)}
    values.update(fields)
    return llm_store.create_ai_llm(state.db.conn(), state.keyring, workspace_id=workspace_id,
                                   user_id=user_id, name=name, **values)
