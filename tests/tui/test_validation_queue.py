"""ValidationQueue against the real local server: bounded concurrency, verdicts read from
``success``, failures of the request itself, and cancellation of what is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType, ValidateResponse
from flashback_tui.domain.validation import ValidationOutcome, ValidationQueue
from tests.support.fake_provider import FakeProvider

KEY = "sk-queue-0123456789"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={KEY}) as fake:
        yield fake


class CountingClient(FlashbackClient):
    """The real client, counting validate calls in flight (instrumentation only)."""

    in_flight = 0
    most = 0

    async def validate_ai_llm(self, ai_llm_id: str) -> ValidateResponse:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await super().validate_ai_llm(ai_llm_id)
        finally:
            self.in_flight -= 1


async def create(client: FlashbackClient, workspace_id: str, endpoints: list[str],
                 secret: str = KEY, prefix: str = "q") -> list[str]:
    ids = []
    for n, endpoint in enumerate(endpoints):
        body = AiLlmCreate(name=f"{prefix}{n}", ai_type=AiType.OTHER, endpoint=endpoint,
                           secret=SecretStr(secret), workspace_id=workspace_id)
        ids.append((await client.create_ai_llm(body)).ai_llm_id)
    return ids


async def test_concurrency_is_bounded_and_verdicts_come_from_success(
    platform, world, provider
) -> None:
    async with CountingClient(platform.url, token=world.tokens["READ"]) as client, \
            FlashbackClient(platform.url, token=world.tokens["WRITE"]) as writer:
        good = await create(writer, world.workspace_id, [provider.endpoint("slow", 150)] * 7)
        bad = await create(writer, world.workspace_id, [provider.endpoint("status", 500)],
                           prefix="bad")
        seen: list[ValidationOutcome] = []
        queue = ValidationQueue(client, concurrency=3)
        outcomes = await queue.run([*good, *bad, "00000000-0000-0000-0000-000000000000"],
                                   seen.append)
    assert client.most == 3
    assert len(outcomes) == len(seen) == 9
    by_id = {o.ai_llm_id: o for o in outcomes}
    assert all(by_id[i].success for i in good)
    assert not by_id[bad[0]].success and not by_id[bad[0]].request_failed  # a 200 answer
    unknown = by_id["00000000-0000-0000-0000-000000000000"]
    assert unknown.request_failed and not unknown.success  # 404: no verdict at all


async def test_cancelling_stops_the_rest(platform, world, provider) -> None:
    async with CountingClient(platform.url, token=world.tokens["WRITE"]) as client:
        ids = await create(client, world.workspace_id, [provider.endpoint("slow", 300)] * 8)
        seen: list[ValidationOutcome] = []
        first = asyncio.Event()

        def arrived(outcome: ValidationOutcome) -> None:
            seen.append(outcome)
            first.set()

        task = asyncio.create_task(ValidationQueue(client, concurrency=2).run(ids, arrived))
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.in_flight == 0
        answered = len(seen)
        await asyncio.sleep(0.5)
        assert len(seen) == answered < len(ids)
