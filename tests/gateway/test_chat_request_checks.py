"""The gateway refuses a chat request whose fields it reads have the wrong type.

Each answer is an OpenAI-style 400 whose ``param`` names the field; the official SDK raises
it as ``BadRequestError``. Nothing is forwarded to the provider.
"""

from __future__ import annotations

import openai
import pytest

from tests.gateway.helpers import Linked

USER = {"role": "user", "content": "hi"}

CASES = [
    ({"model": 5, "messages": [USER]}, "model"),
    ({"model": "m", "messages": [USER], "stream": {}}, "stream"),
    ({"model": "m", "messages": [{}]}, "messages[0].role"),
    ({"model": "m", "messages": [{"role": 5, "content": "hi"}]}, "messages[0].role"),
    ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "m", "messages": [USER], "max_tokens": -3}, "max_tokens"),
    ({"model": "m", "messages": [USER], "max_tokens": 2.5}, "max_tokens"),
    ({"model": "m", "messages": []}, "messages"),
    ({"model": "m", "messages": ["hi"]}, "messages[0]"),
]


@pytest.mark.parametrize(("body", "param"), CASES)
def test_a_wrongly_typed_field_is_a_400_naming_it(linked: Linked, body: dict[str, object],
                                                   param: str) -> None:
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(**body)  # type: ignore[call-overload]
    error = raised.value.body
    assert isinstance(error, dict) and error["param"] == param
    assert raised.value.status_code == 400


def test_a_null_token_limit_is_the_provider_default(linked: Linked) -> None:
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    answer = client.chat.completions.create(model="m", messages=[USER],  # type: ignore[list-item]
                                            max_tokens=None)
    assert answer.choices
