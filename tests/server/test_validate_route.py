"""``POST /ai/llm/{id}/validate`` through the real server, against the provider stand-in.

Validation answers 200 with ``success`` and a message for every provider outcome, stores the
outcome, and ``/ai/llm/available`` lists exactly the configurations that validated and have
not changed since.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiLlmUpdate, AiType
from tests.support.fake_provider import OPENAI_MODELS, FakeProvider, closed_port_url

KEY = "sk-route-right-key-00000000001"
NOT_ENFORCED = "but the endpoint accepted an invalid key too: it does not enforce authentication"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={KEY}) as running:
        yield running


@pytest.fixture
async def writer(platform: Any, world: Any) -> AsyncIterator[FlashbackClient]:
    """A WRITE member of the fresh workspace."""
    async with FlashbackClient(platform.url, token=world.tokens["WRITE"]) as client:
        yield client


@pytest.fixture
async def reader(platform: Any, world: Any) -> AsyncIterator[FlashbackClient]:
    """A READ member of the fresh workspace (READ may validate)."""
    async with FlashbackClient(platform.url, token=world.tokens["READ"]) as client:
        yield client


async def create(
    client: FlashbackClient, world: Any, endpoint: str, secret: str | None = KEY, **extra: Any
) -> str:
    """Create a configuration in the world's workspace and return its id."""
    body = AiLlmCreate(
        name=f"cfg-{uuid.uuid4().hex[:10]}",
        ai_type=extra.pop("ai_type", AiType.OPENAI),
        endpoint=endpoint,
        secret=secret,
        workspace_id=world.workspace_id,
        **extra,
    )
    return (await client.create_ai_llm(body)).ai_llm_id


async def available_ids(client: FlashbackClient) -> set[str]:
    return {llm.id for llm in (await client.get_available_ai_llms()).ai_llms}


async def test_right_key_validates(
    provider: FakeProvider, writer: FlashbackClient, reader: FlashbackClient, world: Any
) -> None:
    llm_id = await create(writer, world, provider.endpoint("ok"))

    answer = await reader.validate_ai_llm(llm_id)

    assert answer.success is True
    assert answer.message == (
        f"Validated: {len(OPENAI_MODELS)} models available at 127.0.0.1:{provider.port}"
    )


@pytest.mark.parametrize(
    ("scenario", "secret", "expected"),
    [
        ("wrong-key", "sk-wrong", "Validation failed: invalid credentials (401 Unauthorized)"),
        ("500", KEY, "Validation failed: provider answered 500 Internal Server Error"),
        ("hang", KEY, "Validation failed: no answer from 127.0.0.1:{port} within "),
        ("closed", KEY, "Validation failed: endpoint unreachable (connection refused)"),
        ("google", "AIza-wrong", "Validation failed: invalid credentials (API_KEY_INVALID)"),
    ],
)
async def test_failures_answer_200_with_a_clear_message(
    provider: FakeProvider,
    writer: FlashbackClient,
    world: Any,
    scenario: str,
    secret: str,
    expected: str,
) -> None:
    ai_type, endpoint = {
        "wrong-key": (AiType.OPENAI, provider.endpoint("ok")),
        "500": (AiType.OPENAI, provider.endpoint("status", 500)),
        "hang": (AiType.OPENAI, provider.endpoint("hang")),
        "closed": (AiType.OPENAI, closed_port_url()),
        "google": (AiType.GOOGLE, provider.endpoint("google", version="v1beta")),
    }[scenario]
    llm_id = await create(writer, world, endpoint, secret, ai_type=ai_type)

    answer = await writer.validate_ai_llm(llm_id)

    assert answer.success is False
    assert answer.message.startswith(expected.format(port=provider.port))
    assert llm_id not in await available_ids(writer)


async def test_endpoint_accepting_any_key_validates_with_a_warning(
    provider: FakeProvider, writer: FlashbackClient, world: Any
) -> None:
    llm_id = await create(writer, world, provider.endpoint("anykey"))

    answer = await writer.validate_ai_llm(llm_id)

    assert answer.success is True
    assert answer.message.endswith(NOT_ENFORCED)


async def test_available_lists_exactly_the_validated_ones(
    provider: FakeProvider, writer: FlashbackClient, reader: FlashbackClient, world: Any
) -> None:
    good = await create(writer, world, provider.endpoint("ok"))
    open_door = await create(writer, world, provider.endpoint("anykey"))
    wrong = await create(writer, world, provider.endpoint("ok"), "sk-wrong")
    broken = await create(writer, world, provider.endpoint("status", 500))
    never_validated = await create(writer, world, provider.endpoint("ok"))
    assert await available_ids(reader) == set()

    outcomes = {
        i: (await reader.validate_ai_llm(i)).success for i in (good, open_door, wrong, broken)
    }

    assert outcomes == {good: True, open_door: True, wrong: False, broken: False}
    assert await available_ids(reader) == {good, open_door}
    assert never_validated not in await available_ids(reader)


async def test_changed_secret_drops_a_configuration_until_validated_again(
    provider: FakeProvider, writer: FlashbackClient, world: Any
) -> None:
    llm_id = await create(writer, world, provider.endpoint("ok"))
    assert (await writer.validate_ai_llm(llm_id)).success
    assert llm_id in await available_ids(writer)

    await writer.update_ai_llm(llm_id, AiLlmUpdate(secret="sk-rotated-but-wrong"))
    assert llm_id not in await available_ids(writer)
    assert (await writer.validate_ai_llm(llm_id)).success is False
    assert llm_id not in await available_ids(writer)

    await writer.update_ai_llm(llm_id, AiLlmUpdate(secret=KEY))
    assert (await writer.validate_ai_llm(llm_id)).success is True
    assert llm_id in await available_ids(writer)


async def test_renaming_keeps_a_configuration_available(
    provider: FakeProvider, writer: FlashbackClient, world: Any
) -> None:
    llm_id = await create(writer, world, provider.endpoint("ok"))
    assert (await writer.validate_ai_llm(llm_id)).success

    await writer.update_ai_llm(llm_id, AiLlmUpdate(name=f"renamed-{uuid.uuid4().hex[:6]}"))

    assert llm_id in await available_ids(writer)


async def test_validation_never_calls_a_completion_nor_leaks_the_secret(
    provider: FakeProvider, writer: FlashbackClient, world: Any
) -> None:
    canary = f"sk-CANARY-{uuid.uuid4().hex}"
    echo_id = await create(writer, world, provider.endpoint("echo"), canary)
    wrong_id = await create(writer, world, provider.endpoint("ok"), canary)
    provider.clear()

    messages = [(await writer.validate_ai_llm(i)).message for i in (echo_id, wrong_id)]

    assert all(canary not in m and canary[:10] not in m for m in messages)
    assert "[redacted]" in messages[0]
    assert {(r.method, r.path.rsplit("/", 1)[-1]) for r in provider.requests} == {("GET", "models")}


# -- a stored secret goes only where it was given ---------------------------------------------


def raw_put(platform: Any, world: Any, llm_id: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=platform.url, timeout=10) as http:
        return http.put(f"/ai/llm/{llm_id}", json=body,
                        headers={"Authorization": f"Bearer {world.tokens['WRITE']}"})


async def test_moving_to_another_host_without_the_secret_is_refused(
    provider: FakeProvider, writer: FlashbackClient, platform: Any, world: Any
) -> None:
    canary = f"sk-CANARY-{uuid.uuid4().hex}"
    with FakeProvider(valid_keys={canary}) as listener:  # a second loopback origin
        llm_id = await create(writer, world, provider.endpoint("ok"), canary)

        refused = raw_put(platform, world, llm_id, {"endpoint": listener.endpoint("ok")})
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("secret: ")
        assert canary not in refused.text
        (llm,) = (await writer.get_ai_llms(world.workspace_id)).ai_llms
        assert llm.endpoint == provider.endpoint("ok")
        await writer.validate_ai_llm(llm_id)
        assert listener.requests == []  # the secret never reached the other listener

        for body in ({"aiType": "OTHER"}, {"aiType": "OTHER", "endpoint": listener.endpoint("ok")}):
            assert raw_put(platform, world, llm_id, body).status_code == 400
        assert listener.requests == []

        moved = raw_put(platform, world, llm_id,
                        {"endpoint": listener.endpoint("ok"), "secret": canary})
        assert moved.status_code == 200, moved.text
        assert (await writer.validate_ai_llm(llm_id)).success is True
        assert listener.requests_for("ok")


async def test_same_origin_moves_need_no_secret(
    provider: FakeProvider, writer: FlashbackClient, platform: Any, world: Any
) -> None:
    llm_id = await create(writer, world, provider.endpoint("ok"))
    answer = raw_put(platform, world, llm_id, {"endpoint": provider.endpoint("anykey")})
    assert answer.status_code == 200, answer.text
    assert (await writer.validate_ai_llm(llm_id)).success is True


@pytest.mark.parametrize("endpoint", [None, "https://api.openai.com/v1"])
async def test_a_reset_to_the_official_endpoint_needs_no_secret(
    provider: FakeProvider, writer: FlashbackClient, platform: Any, world: Any,
    endpoint: str | None,
) -> None:
    llm_id = await create(writer, world, provider.endpoint("ok"))
    answer = raw_put(platform, world, llm_id, {"endpoint": endpoint})
    assert answer.status_code == 200, answer.text
    (llm,) = (await writer.get_ai_llms(world.workspace_id)).ai_llms
    assert llm.endpoint == "https://api.openai.com/v1"
    assert llm.validation_status == "NOT_VALIDATED"
    # And back to the custom host: that needs the secret again.
    assert raw_put(platform, world, llm_id, {"endpoint": provider.endpoint("ok")}
                   ).status_code == 400


async def test_an_unbound_secret_is_never_sent(
    provider: FakeProvider, writer: FlashbackClient, platform: Any, world: Any
) -> None:
    """Defence in depth: a row whose endpoint moved behind the API's back keeps its secret."""
    from flashback_tui.server.state import PlatformState

    with FakeProvider(valid_keys={KEY}) as listener:
        llm_id = await create(writer, world, provider.endpoint("ok"))
        with PlatformState.open(platform.data_dir) as state:
            state.db.conn().execute("UPDATE ai_llms SET endpoint = ? WHERE id = ?",
                                    (listener.endpoint("ok"), llm_id))
        answer = await writer.validate_ai_llm(llm_id)
        assert answer.success is False and "secret" in answer.message
        assert listener.requests == []


async def test_a_successful_validation_stores_the_model_list(
    provider: FakeProvider, writer: FlashbackClient, platform: Any, world: Any
) -> None:
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import models as model_store

    llm_id = await create(writer, world, provider.endpoint("ok"))
    wrong = await create(writer, world, provider.endpoint("ok"), "sk-wrong")
    assert (await writer.validate_ai_llm(llm_id)).success is True
    assert (await writer.validate_ai_llm(wrong)).success is False
    with PlatformState.open(platform.data_dir) as state:
        stored = model_store.models_for_llm(state.db.conn(), llm_id)
        assert model_store.models_for_llm(state.db.conn(), wrong) == []
    assert sorted(m.model_id for m in stored) == sorted(OPENAI_MODELS)
    assert {m.llm_type for m in stored} == {"OPENAI"}
