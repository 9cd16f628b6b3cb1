"""Sign-in through FlashbackClient: login, transparent refresh on 401, logout."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest

from flashback_tui.api.client import FlashbackClient, Tokens
from flashback_tui.api.errors import UnauthorizedError
from flashback_tui.api.models import AiLlmCreate, AiType
from flashback_tui.server import admin

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Member:
    """A WRITE member of their own workspace who signs in with ``PASSWORD``."""

    email: str
    workspace_id: str


@pytest.fixture(scope="module")
def member(platform) -> Member:
    """One password user for the module (hashing a password is slow on purpose)."""
    tag = uuid.uuid4().hex[:8]
    email = f"pw-{tag}@example.com"
    workspace_id = admin.add_workspace(platform.data_dir, f"auth-{tag}")
    admin.add_user(platform.data_dir, email, PASSWORD)
    admin.add_member(platform.data_dir, workspace_id, email, "WRITE")
    return Member(email, workspace_id)


async def signed_in(platform, member: Member) -> tuple[str, str]:
    """A fresh (access, refresh) pair for ``email``, as plain strings."""
    async with FlashbackClient(platform.url) as client:
        answer = await client.login(member.email, PASSWORD)
    return answer.access_token.get_secret_value(), answer.refresh_token.get_secret_value()


async def test_login_keeps_the_tokens(platform, member: Member) -> None:
    async with FlashbackClient(platform.url) as client:
        answer = await client.login(member.email, PASSWORD)
        assert answer.user.email == member.email
        assert client.token == answer.access_token
        assert client.refresh_token == answer.refresh_token
        assert client.expires_at == answer.expires_at > 0
        workspaces = (await client.get_workspaces()).workspaces
    assert [w.id for w in workspaces] == [member.workspace_id]


async def test_login_with_a_wrong_password_is_a_401(platform, member: Member) -> None:
    async with FlashbackClient(platform.url) as client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.login(member.email, "wrong password")
        assert client.token is None
    assert caught.value.request == "POST /user/login"
    assert "wrong password" not in str(caught.value)


async def test_an_expired_access_token_is_refreshed_once_and_retried(
    platform, member: Member
) -> None:
    _, refresh = await signed_in(platform, member)
    expired = admin.create_token(platform.data_dir, member.email, ttl_seconds=-1)
    reported: list[Tokens] = []
    client = FlashbackClient(
        platform.url, token=expired, refresh_token=refresh,
        on_tokens_refreshed=reported.append,
    )
    async with client:
        workspaces = (await client.get_workspaces()).workspaces
        assert [w.id for w in workspaces] == [member.workspace_id]
        assert len(reported) == 1
        assert client.token == reported[0].access_token
        assert client.refresh_token == reported[0].refresh_token
        assert client.expires_at == reported[0].expires_at
        # The new access token keeps working without another refresh.
        await client.get_ai_llms()
    assert len(reported) == 1


async def test_concurrent_401s_share_one_refresh(platform, member: Member) -> None:
    _, refresh = await signed_in(platform, member)
    reported: list[Tokens] = []

    async def store(tokens: Tokens) -> None:
        await asyncio.sleep(0)
        reported.append(tokens)

    client = FlashbackClient(
        platform.url, token="bogus", refresh_token=refresh, on_tokens_refreshed=store
    )
    async with client:
        answers = await asyncio.gather(*(client.get_ai_llms() for _ in range(6)))
    assert all(a.success for a in answers)
    assert len(reported) == 1


async def test_a_write_after_refresh_happens_once(platform, member: Member) -> None:
    """POST is never retried for transport reasons, but a 401 retry sends it exactly once."""
    _, refresh = await signed_in(platform, member)
    client = FlashbackClient(platform.url, token="bogus", refresh_token=refresh)
    name = f"after-refresh-{uuid.uuid4().hex[:8]}"
    body = AiLlmCreate(name=name, ai_type=AiType.OPENAI, workspace_id=member.workspace_id)
    async with client:
        created = await client.create_ai_llm(body)
        listed = (await client.get_ai_llms(member.workspace_id)).ai_llms
    assert [c.id for c in listed if c.name == name] == [created.ai_llm_id]


async def test_a_rejected_refresh_token_raises_the_original_401(platform) -> None:
    client = FlashbackClient(platform.url, token="bogus", refresh_token="also-bogus")
    async with client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.get_ai_llms()
        assert client.refresh_token is None
    assert caught.value.request == "GET /ai/llm"


async def test_explicit_refresh(platform, member: Member) -> None:
    access, refresh = await signed_in(platform, member)
    reported: list[Tokens] = []
    client = FlashbackClient(
        platform.url, token=access, refresh_token=refresh, on_tokens_refreshed=reported.append
    )
    async with client:
        answer = await client.refresh()
        assert client.token == answer.access_token
        assert [t.access_token for t in reported] == [answer.access_token]
        assert (await client.get_workspaces()).success


async def test_refresh_without_a_refresh_token_is_a_401(platform) -> None:
    async with FlashbackClient(platform.url, token="x") as client:
        with pytest.raises(UnauthorizedError):
            await client.refresh()


async def test_a_failing_token_store_does_not_fail_the_call(
    platform, member: Member, caplog: pytest.LogCaptureFixture
) -> None:
    _, refresh = await signed_in(platform, member)

    def broken_store(_tokens: Tokens) -> None:
        raise OSError("keyring locked")

    client = FlashbackClient(
        platform.url, token="bogus", refresh_token=refresh, on_tokens_refreshed=broken_store
    )
    async with client:
        assert (await client.get_workspaces()).success
        assert client.token is not None
        new_tokens = (client.token.get_secret_value(), client.refresh_token.get_secret_value())
    assert "could not store refreshed tokens: OSError" in caplog.text
    assert not any(t in caplog.text for t in (refresh, *new_tokens))


async def test_logout_revokes_the_refresh_token(platform, member: Member) -> None:
    async with FlashbackClient(platform.url) as client:
        login = await client.login(member.email, PASSWORD)
        assert (await client.logout()).success
        assert client.token is None and client.refresh_token is None

    stale = FlashbackClient(platform.url, refresh_token=login.refresh_token)
    async with stale:
        with pytest.raises(UnauthorizedError):
            await stale.refresh()


async def test_logout_without_a_session_only_forgets_the_token(platform, world) -> None:
    async with FlashbackClient(platform.url, token=world.tokens["READ"]) as client:
        assert (await client.logout()).success
        assert client.token is None
