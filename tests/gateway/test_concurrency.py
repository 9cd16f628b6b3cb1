"""50 concurrent streams, some cut off by their client: every count arrives exactly."""

from __future__ import annotations

import asyncio

import openai

from tests.gateway.helpers import Linked, stats_of
from tests.support.fake_provider import FakeProvider, count_tokens

STREAMS = 50
CUT_EVERY = 5  # every fifth stream is abandoned after its first chunk


async def one_stream(client: openai.AsyncOpenAI, n: int) -> str:
    prompt = f"stream number {n} " + "word " * (n % 7)
    stream = await client.chat.completions.create(
        model="fake-gpt-small", stream=True, messages=[{"role": "user", "content": prompt}])
    text = ""
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if n % CUT_EVERY == 0:
            await stream.close()  # the client hangs up mid-stream
            return prompt
    assert text == f"You said: {prompt}".strip()
    return prompt


async def test_fifty_streams_some_cut_lose_no_count(linked: Linked,
                                                    provider: FakeProvider) -> None:
    async with openai.AsyncOpenAI(base_url=linked.base_url, api_key=linked.secret,
                                  max_retries=0) as client:
        prompts = await asyncio.gather(*(one_stream(client, n) for n in range(STREAMS)))
    expected_in = sum(count_tokens(p) for p in prompts)
    expected_out = sum(count_tokens(f"You said: {p}") for p in prompts)
    stats: dict[str, int] = {}
    for _ in range(100):  # cut streams are still being drained from the provider
        stats = await asyncio.to_thread(stats_of, linked.api, linked.llm_id)
        if stats["totalApiCalls"] == STREAMS and stats["totalLlmTokensOut"] == expected_out:
            break
        await asyncio.sleep(0.05)
    assert stats["totalApiCalls"] == STREAMS
    assert stats["totalLlmTokensIn"] == expected_in
    assert stats["totalLlmTokensOut"] == expected_out
