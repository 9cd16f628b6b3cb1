"""The official ``openai`` SDK against the gateway: answers intact, usage counted exactly."""

from __future__ import annotations

import openai
import pytest

from tests.gateway.helpers import Linked, stats_of
from tests.support.fake_provider import FakeProvider, count_tokens


def client_for(linked: Linked) -> openai.OpenAI:
    return openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)


def test_plain_chat_answer_and_stats(linked: Linked, provider: FakeProvider) -> None:
    client = client_for(linked)
    prompts = ["hello there", "how are you today, friend?"]
    expected_in = expected_out = 0
    for prompt in prompts:
        answer = client.chat.completions.create(
            model="fake-gpt-small", messages=[{"role": "user", "content": prompt}])
        assert answer.choices[0].message.content == f"You said: {prompt}"
        assert answer.usage is not None
        expected_in += answer.usage.prompt_tokens
        expected_out += answer.usage.completion_tokens
    stats = stats_of(linked.api, linked.llm_id)
    assert stats["totalApiCalls"] == 2
    assert stats["totalLlmTokensIn"] == expected_in == sum(count_tokens(p) for p in prompts)
    assert stats["totalLlmTokensOut"] == expected_out
    assert stats["totalTokensIn"] > 0 and stats["totalTokensOut"] > 0


def test_streaming_relays_chunks_and_strips_usage_unless_asked(
        linked: Linked, provider: FakeProvider) -> None:
    client = client_for(linked)
    prompt = "stream me a few words please"
    chunks = list(client.chat.completions.create(
        model="fake-gpt-small", stream=True, messages=[{"role": "user", "content": prompt}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"You said: {prompt}"
    assert len(chunks) > 3  # relayed event by event, not as one blob
    assert all(c.choices for c in chunks), "the usage chunk the caller did not ask for leaked"
    assert all(c.usage is None for c in chunks)

    asked = list(client.chat.completions.create(
        model="fake-gpt-small", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt}]))
    usage_chunks = [c for c in asked if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []

    stats = stats_of(linked.api, linked.llm_id)
    reply_tokens = count_tokens(f"You said: {prompt}")
    assert stats["totalApiCalls"] == 2
    assert stats["totalLlmTokensIn"] == 2 * count_tokens(prompt)
    assert stats["totalLlmTokensOut"] == 2 * reply_tokens
    assert usage_chunks[0].usage.completion_tokens == reply_tokens
    # the gateway's own count of the same text: "You said: ..." has a ':' piece too
    assert stats["totalTokensOut"] == 2 * (reply_tokens + 1)


def test_minute_series_carries_calls_tokens_latency_model_and_host(
        linked: Linked, provider: FakeProvider) -> None:
    client = client_for(linked)
    client.chat.completions.create(model="fake-gpt-large",
                                   messages=[{"role": "user", "content": "one two three"}])
    data = linked.api.call("GET", "/aistats/minute", params={"aiLlmId": linked.llm_id})["data"]
    assert len(data) == 1
    point = data[0]
    assert point["apiCalls"] == 1 and point["llmTokensIn"] == "3"  # token counts: strings
    assert point["repoId"] == linked.repo_id and point["repoAiApiKeyId"] == linked.key_id
    assert point["llmModel"] == "fake-gpt-large" and point["llmType"] == "OPENAI"
    assert point["host"] == f"127.0.0.1:{provider.port}"
    assert point["latency_ms"] > 0
    daily = linked.api.call("GET", "/aistats/daily", params={"aiLlmId": linked.llm_id})["data"]
    assert sum(p["apiCalls"] for p in daily) == 1


def test_active_conversations_count_each_chat_once_a_minute(
        linked: Linked, provider: FakeProvider) -> None:
    client = client_for(linked)
    system = {"role": "system", "content": "You are terse."}
    opening = {"role": "user", "content": "What is a gateway?"}
    first = client.chat.completions.create(model="fake-gpt-small", messages=[system, opening])
    client.chat.completions.create(model="fake-gpt-small", messages=[  # the same chat, later
        system, opening, {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And a proxy?"}])
    client.chat.completions.create(model="fake-gpt-small", messages=[  # another chat
        system, {"role": "user", "content": "What is a policy?"}])

    # The calls may fall into one minute or two (and, at midnight, two days): a conversation
    # counts once in every minute (and day) it was active in, whichever that was.
    rows = linked.api.call("GET", "/aistats/minute", params={"aiLlmId": linked.llm_id})["data"]
    assert len({row["conversationUuid"] for row in rows}) == 2
    assert sum(row["apiCalls"] for row in rows) == 3
    minutes = {(row["conversationUuid"], row["timestamp"]) for row in rows}
    assert sum(row["activeConversations"] for row in rows) == len(minutes)
    days = {(conversation, at // 86_400_000) for conversation, at in minutes}  # Unix ms
    daily = linked.api.call("GET", "/aistats/daily", params={"aiLlmId": linked.llm_id})["data"]
    assert sum(p["activeConversations"] for p in daily) == len(days)


def test_models_are_listed_through_the_gateway(linked: Linked) -> None:
    models = client_for(linked).models.list()
    assert "fake-gpt-small" in [m.id for m in models.data]


def test_provider_errors_come_back_openai_style_with_their_status(
        linked: Linked, provider: FakeProvider) -> None:
    linked.api.call("PUT", f"/ai/llm/{linked.llm_id}",
                    json={"endpoint": provider.endpoint("status", 429)})
    with pytest.raises(openai.RateLimitError) as caught:
        client_for(linked).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 429
    assert "429" in caught.value.message
    assert stats_of(linked.api, linked.llm_id)["totalApiCalls"] == 1
