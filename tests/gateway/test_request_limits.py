"""Requests the platform will not read: too deep, too large, headers too big.

The gateway answers in OpenAI's error shape (400, 413, 431) and the management API in its
own, and neither ever answers 500 for them.
"""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.gateway.helpers import Linked


def chat(linked: Linked, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{linked.base_url}/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {linked.secret}",
                               **kwargs.pop("headers", {})}, **kwargs)  # type: ignore[arg-type]


def test_a_message_nested_a_thousand_levels_deep_is_a_400(linked: Linked) -> None:
    deep = "[" * 1000 + "]" * 1000
    body = '{"model": "m", "messages": [{"role": "user", "content": ' + deep + "}]}"
    answer = chat(linked, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] in ("too_deep", "invalid_json")
    deeper = "[" * 100_000 + "]" * 100_000
    answer = chat(linked, content='{"messages": ' + deeper + "}",
                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 400


def test_a_body_over_the_limit_is_a_413_at_the_gateway_and_a_400_elsewhere(
        platform: PlatformHandle, linked: Linked) -> None:
    huge = b"x" * (33 * 1024 * 1024)
    answer = chat(linked, content=huge, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "request_too_large"
    management = httpx.post(f"{platform.url}/ai/llm", content=b"y" * (2 * 1024 * 1024),
                            headers={"Authorization": f"Bearer {platform.admin_token}",
                                     "Content-Type": "application/json"}, timeout=30)
    assert management.status_code == 400
    assert management.json() == {"success": False, "message": "body: larger than 1024 kB"}


def test_a_huge_header_is_a_431(platform: PlatformHandle, linked: Linked) -> None:
    big = "a" * (1024 * 1024)
    answer = chat(linked, json={"messages": [{"role": "user", "content": "hi"}]},
                  headers={"X-Padding": big})
    assert answer.status_code == 431 and answer.json()["error"]["code"] == "headers_too_large"
    management = httpx.get(f"{platform.url}/workspace", timeout=30,
                           headers={"Authorization": f"Bearer {platform.admin_token}",
                                    "X-Padding": big})
    assert management.status_code == 431 and management.json()["success"] is False
