"""Secrets the platform refuses on the way in, and stored ones it can no longer send.

A secret must be printable ASCII with no whitespace inside (it travels in an HTTP header).
A data dir from an older version may hold one that is not: validating it answers 200 with
``success: false`` and the gateway answers an OpenAI-style 502, never a 500.
"""

from __future__ import annotations

import openai
import pytest
from pydantic import SecretStr

from flashback_tui.server.state import PlatformState
from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, Linked
from tests.support.fake_provider import FakeProvider


@pytest.mark.parametrize("secret", ["sk-abc-é€", "sk-with space", "sk-a\r\nX-Evil: 1", "sk-\x00"])
def test_a_secret_that_cannot_travel_is_refused_without_being_echoed(
        platform: PlatformHandle, world: World, secret: str) -> None:
    api = Api(platform.url, world.tokens["WRITE"])
    body = {"name": "bad-secret", "aiType": "OPENAI", "secret": secret,
            "workspaceId": world.workspace_id}
    answer = api.call("POST", "/ai/llm", expect=400, json=body)
    assert answer["message"].startswith("secret:") and secret not in answer["message"]
    named = api.call("POST", "/ai/llm", expect=400, json={**body, "secret": "sk-ok",
                                                          "name": "bad\x00name"})
    assert named["message"].startswith("name:")


def store_unsendable_secret(platform: PlatformHandle, llm_id: str) -> None:
    """What an older data dir may hold: a secret the checks of today refuse."""
    from flashback_tui.server.store import ai_llms as llm_store

    with PlatformState.open(platform.data_dir) as state:
        llm_store.update_ai_llm(state.db.conn(), state.keyring, llm_id,
                                {"secret": SecretStr("sk-old-é€")})


def test_a_stored_secret_that_cannot_be_sent_fails_validation_and_the_gateway_says_502(
        platform: PlatformHandle, linked: Linked, provider: FakeProvider) -> None:
    store_unsendable_secret(platform, linked.llm_id)
    verdict = linked.api.call("POST", f"/ai/llm/{linked.llm_id}/validate")
    assert verdict["success"] is False and "cannot be sent" in verdict["message"]
    assert "é" not in verdict["message"]
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 502
    assert "rotate it" in str(refused.value) and "é" not in str(refused.value)
