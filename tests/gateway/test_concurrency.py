"""50 concurrent streams, some cut off by their client: every count arrives exactly.

The provider drips its events (20 ms apart), so a client that hangs up after the first
chunk leaves while the provider is still answering; the gateway must read the rest to learn
the provider's usage.
"""

from __future__ import annotations

import asyncio

import openai

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import make_linked, stats_of
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


async def test_fifty_streams_some_cut_lose_no_count(
        platform: PlatformHandle, world: World, provider: FakeProvider) -> None:
    linked = await asyncio.to_thread(make_linked, platform, world, provider.endpoint("drip", 20))
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
