"""Routing by provider type: each through its OpenAI-compatible endpoint and auth header."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import make_linked, stats_of
from tests.support.fake_provider import FakeProvider


@pytest.mark.parametrize(("ai_type", "scenario", "version", "auth_header"), [
    ("ANTHROPIC", "anthropic", "v1", "x-api-key"),
    ("GOOGLE", "google", "v1beta", "authorization"),
    ("OTHER", "ok", "v1", "authorization"),
])
def test_chat_reaches_each_provider_type(
        platform: PlatformHandle, world: World, provider: FakeProvider, ai_type: str,
        scenario: str, version: str, auth_header: str) -> None:
    linked = make_linked(platform, world, provider.endpoint(scenario, version=version),
                         ai_type=ai_type)
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    before = len(provider.requests_for(scenario))
    answer = client.chat.completions.create(
        model="some-model", messages=[{"role": "user", "content": "hello provider"}])
    assert answer.choices[0].message.content == "You said: hello provider"
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="some-model", stream=True,
            messages=[{"role": "user", "content": "hello provider"}])
        if chunk.choices)
    assert streamed == "You said: hello provider"
    sent = provider.requests_for(scenario)[before:]
    assert [r.path.rsplit("/", 2)[-2:] for r in sent] == [["chat", "completions"]] * 2
    assert all(r.auth_ok and r.headers[auth_header] == "<redacted>" for r in sent)
    if ai_type == "GOOGLE":
        assert all("/v1beta/openai/" in r.path for r in sent)
    if ai_type == "ANTHROPIC":
        assert all(r.headers.get("anthropic-version") for r in sent)
        assert all("authorization" not in r.headers for r in sent)
    stats = stats_of(linked.api, linked.llm_id)
    assert (stats["totalApiCalls"], stats["totalLlmTokensIn"]) == (2, 4)
    assert [m.id for m in client.models.list().data]


def test_aws_configurations_answer_501(platform: PlatformHandle, world: World,
                                       provider: FakeProvider) -> None:
    linked = make_linked(platform, world, provider.endpoint("bedrock"), ai_type="AWS")
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 501
    assert caught.value.code == "unsupported_provider"


def test_unreachable_provider_is_502(platform: PlatformHandle, world: World) -> None:
    from tests.support.fake_provider import closed_port_url

    linked = make_linked(platform, world, closed_port_url())
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_unreachable"
