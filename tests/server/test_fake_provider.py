"""The provider stand-in itself: OpenAI-compatible chat, streaming usage, records, keep-alive."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.fake_provider import (
    OPENAI_MODELS,
    REDACTED,
    FakeProvider,
    closed_port_url,
    count_tokens,
)

pytestmark = pytest.mark.no_database

KEY = "sk-fake-provider-test-key-0001"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hello there fake provider"},
]
PROMPT_TOKENS = 2 + 4
REPLY = "You said: hello there fake provider"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={KEY}) as running:
        yield running


@pytest.fixture
def fresh(provider: FakeProvider) -> FakeProvider:
    provider.clear()
    return provider


async def test_openai_sdk_lists_models_and_completes(fresh: FakeProvider) -> None:
    async with openai.AsyncOpenAI(
        api_key=KEY, base_url=fresh.endpoint("ok"), max_retries=0
    ) as client:
        models = await client.models.list()
        completion = await client.chat.completions.create(model="fake-gpt-small", messages=MESSAGES)

    assert [m.id for m in models.data] == list(OPENAI_MODELS)
    assert completion.choices[0].message.content == REPLY
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == PROMPT_TOKENS
    assert completion.usage.completion_tokens == count_tokens(REPLY)
    assert completion.usage.total_tokens == PROMPT_TOKENS + count_tokens(REPLY)
    assert [(r.method, r.path) for r in fresh.requests] == [
        ("GET", "/ok/v1/models"),
        ("POST", "/ok/v1/chat/completions"),
    ]


async def test_openai_sdk_streams_with_usage(fresh: FakeProvider) -> None:
    async with openai.AsyncOpenAI(
        api_key=KEY, base_url=fresh.endpoint("slow", 5), max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="fake-gpt-large",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == PROMPT_TOKENS
    assert chunks[-1].usage.completion_tokens == count_tokens(REPLY)
    assert [r.scenario for r in fresh.requests] == ["slow"]


async def test_stream_without_include_usage_reports_no_usage(fresh: FakeProvider) -> None:
    async with openai.AsyncOpenAI(
        api_key=KEY, base_url=fresh.endpoint("ok"), max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model="fake-gpt-small", messages=MESSAGES, stream=True
        )
        chunks = [chunk async for chunk in stream]

    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_wrong_key_is_refused_on_completions(fresh: FakeProvider) -> None:
    async with openai.AsyncOpenAI(
        api_key="sk-wrong", base_url=fresh.endpoint("ok"), max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(model="fake-gpt-small", messages=MESSAGES)

    assert [r.auth_ok for r in fresh.requests] == [False]


async def test_anykey_accepts_a_completion_without_a_key(fresh: FakeProvider) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{fresh.endpoint('anykey')}/chat/completions", json={"messages": MESSAGES}
        )

    assert answer.status_code == 200
    assert answer.json()["usage"]["prompt_tokens"] == PROMPT_TOKENS


async def test_records_never_hold_credential_values(fresh: FakeProvider) -> None:
    canary = f"sk-CANARY-{uuid.uuid4().hex}"
    async with httpx.AsyncClient() as client:
        await client.get(
            f"{fresh.endpoint('ok')}/models", headers={"Authorization": f"Bearer {canary}"}
        )
        await client.get(f"{fresh.endpoint('anthropic')}/models", headers={"x-api-key": canary})

    assert canary not in repr(fresh.requests)
    assert fresh.requests[0].headers["authorization"] == REDACTED
    assert fresh.requests[1].headers["x-api-key"] == REDACTED


async def test_keep_alive_serves_many_requests_on_one_connection(fresh: FakeProvider) -> None:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as client:
        answers = [
            await client.get(
                f"{fresh.endpoint('ok')}/models", headers={"Authorization": f"Bearer {KEY}"}
            )
            for _ in range(5)
        ]

    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.headers["content-length"] == str(len(a.content)) for a in answers)
    assert all(a.http_version == "HTTP/1.1" for a in answers)


async def test_many_concurrent_slow_requests_are_all_answered(fresh: FakeProvider) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=32)) as client:
        answers = await asyncio.gather(
            *(
                client.get(f"{fresh.endpoint('slow', 30)}/models", headers=headers)
                for _ in range(64)
            )
        )

    assert [a.status_code for a in answers] == [200] * 64


async def test_unknown_scenario_is_a_404(fresh: FakeProvider) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{fresh.url}/nope/v1/models")

    assert answer.status_code == 404
    assert "No such fake-provider scenario" in answer.json()["error"]["message"]


def test_closed_port_url_refuses_connections() -> None:
    url = httpx.URL(closed_port_url())

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((url.host, url.port), timeout=2).close()


def test_endpoint_builds_scenario_paths(provider: FakeProvider) -> None:
    assert provider.endpoint("ok") == f"{provider.url}/ok/v1"
    assert provider.endpoint("status", 500) == f"{provider.url}/status/500/v1"
    assert provider.endpoint("google", version="v1beta") == f"{provider.url}/google/v1beta"
    assert provider.endpoint("bedrock") == f"{provider.url}/bedrock"
