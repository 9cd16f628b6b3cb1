"""A canary secret goes through every endpoint and never comes back.

Not in any response body (success or error), not in any exception's str, repr or message;
``key`` comes back masked. The request bodies are checked to carry the canary, so the test
proves the secret really travelled.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import SecretStr

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.errors import FlashbackError
from flashback_tui.api.models import AiLlmCreate, AiLlmUpdate, AiType
from tests.support.fake_provider import FakeProvider


class Recording(httpx.AsyncHTTPTransport):
    """A real transport that keeps a copy of every request and response body."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.content)
        response = await super().handle_async_request(request)
        self.received.append(await response.aread())
        return response


async def expect_refusal(call, errors: list[FlashbackError]) -> None:
    with pytest.raises(FlashbackError) as caught:
        await call
    errors.append(caught.value)


async def test_canary_never_comes_back(platform, world, canary: str) -> None:
    key = f"AKIA-CANARYKEY-{uuid.uuid4().hex}"
    rotated = f"{canary}-rotated"
    transport = Recording()
    errors: list[FlashbackError] = []
    client = FlashbackClient(platform.url, token=world.tokens["WRITE"], transport=transport)
    reader = FlashbackClient(platform.url, token=world.tokens["READ"], transport=transport)

    with FakeProvider(valid_keys={canary}) as provider:
        async with client, reader:
            def body(name: str, endpoint: str) -> AiLlmCreate:
                return AiLlmCreate(
                    name=name, ai_type=AiType.OTHER, endpoint=endpoint, key=key,
                    secret=canary, workspace_id=world.workspace_id,
                )

            good = (await client.create_ai_llm(body("good", provider.endpoint("ok")))).ai_llm_id
            echo = (await client.create_ai_llm(body("echo", provider.endpoint("echo")))).ai_llm_id

            assert (await client.validate_ai_llm(good)).success
            echoed = await client.validate_ai_llm(echo)
            assert echoed.success is False

            listed = (await client.get_ai_llms(world.workspace_id)).ai_llms
            assert {c.key for c in listed} == {"****" + key[-4:]}
            assert good in [c.id for c in (await client.get_available_ai_llms()).ai_llms]
            await client.get_ai_llms()
            await client.get_ai_llm_stats()
            await client.get_ai_llm_stats(good)
            await client.get_ai_stats_minute(ai_llm_ids=[good, echo])
            await client.get_ai_stats_daily(ai_llm_ids=[good])
            await client.get_workspaces()
            await client.get_workspace(world.workspace_id)
            await client.update_ai_llm(good, AiLlmUpdate(name="good-2", secret=rotated))

            # Refusals of requests that carry the secret.
            duplicate = body("echo", provider.endpoint("ok"))
            await expect_refusal(client.create_ai_llm(duplicate), errors)
            bad_endpoint = AiLlmCreate.model_construct(
                name="bad", ai_type=AiType.OTHER, endpoint="ftp://127.0.0.1/v1",
                key=SecretStr(key), secret=SecretStr(canary), workspace_id=world.workspace_id,
            )
            await expect_refusal(client.create_ai_llm(bad_endpoint), errors)
            await expect_refusal(reader.update_ai_llm(good, AiLlmUpdate(secret=canary)), errors)
            await expect_refusal(
                client.update_ai_llm(str(uuid.uuid4()), AiLlmUpdate(secret=canary)), errors
            )
            await client.delete_ai_llm(good)
            await client.delete_ai_llm(echo)

    assert any(canary.encode() in sent for sent in transport.sent), "the secret was sent"
    assert any(key.encode() in sent for sent in transport.sent), "the key was sent"
    assert [e.status for e in errors] == [400, 400, 403, 404]
    assert len(transport.received) >= 20
    for received in transport.received:
        for leaked in (canary, rotated, key):
            assert leaked.encode() not in received
    for error in errors:
        for text in (str(error), repr(error), error.message, repr(error.args), error.request):
            for leaked in (canary, key):
                assert leaked not in text
    for text in (repr(client), str(client), repr(vars(client))):
        assert canary not in text and key not in text
