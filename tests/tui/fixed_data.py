"""Fixed data for snapshot tests: no ports, uuids, dates or times that change between runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from flashback_tui.api.models import AiLlm, AiType, RepoRef, Workspace, WorkspaceUser
from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp

USER_ID = "user-0001"
WORKSPACES = [
    Workspace(id="ws-prod", name="Production",
              users=[WorkspaceUser(user_id=USER_ID, role="ADMIN")]),
    Workspace(id="ws-lab", name="Research lab",
              users=[WorkspaceUser(user_id=USER_ID, role="WRITE")]),
    Workspace(id="ws-audit", name="Audit",
              users=[WorkspaceUser(user_id=USER_ID, role="READ")]),
]
CREATED = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def llm(n: int, name: str, ai_type: AiType, endpoint: str, *, key: str | None = None,
        status: str | None = None, message: str | None = None, repos: tuple[str, ...] = (),
        workspace_id: str = "ws-prod") -> AiLlm:
    """One configuration with a fixed id and date."""
    return AiLlm(
        id=f"llm-{n:04d}", workspace_id=workspace_id, name=name, ai_type=ai_type,
        endpoint=endpoint, key=key, created_at=CREATED.replace(day=n % 28 + 1),
        repos=[RepoRef(id=f"repo-{n}-{i}", name=r) for i, r in enumerate(repos)],
        validation_status=status, validation_message=message,
    )


CONFIGS = [
    llm(1, "Production OpenAI", AiType.OPENAI, "https://api.openai.com/v1", key="****abcd",
        status="VALID", message="ok", repos=("docs-bot", "support-bot")),
    llm(2, "Claude for support", AiType.ANTHROPIC, "https://api.anthropic.com/v1",
        status="INVALID", message="Validation failed: provider answered 401 Unauthorized"),
    llm(3, "Gemini experiments", AiType.GOOGLE,
        "https://generativelanguage.googleapis.com/v1beta", status="NOT_VALIDATED"),
    llm(4, "Bedrock us-east-1", AiType.AWS, "https://bedrock.us-east-1.amazonaws.com",
        key="****MPLE", status="VALID", message="ok"),
    llm(5, "On-prem vLLM", AiType.OTHER, "http://vllm.internal:8000/v1", status="INVALID",
        message="Validation failed: endpoint unreachable (connection refused)"),
]


def fixed_app(*, read_only: bool = False, connecting: bool = False) -> FlashbackApp:
    """An app with no live session; tests push screens and feed them the fixed data."""
    profile = Profile(name="snap", url="https://backend.example.test")
    opener = None
    if connecting:
        @asynccontextmanager
        async def never() -> AsyncIterator[object]:
            await asyncio.Event().wait()
            yield None

        opener = never
    app = FlashbackApp(opener=opener, profile=profile, read_only=read_only)
    app.workspaces = list(WORKSPACES)
    app.user_id = USER_ID
    return app
