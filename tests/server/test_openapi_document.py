"""``/openapi.json`` states the rules the server applies (checked in depth by tests/fuzz)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import PlatformHandle


def document(platform: PlatformHandle) -> dict[str, Any]:
    return httpx.get(f"{platform.url}/openapi.json", timeout=30).json()


def test_counts_are_decimal_strings_and_a_new_key_shows_its_secret(
        platform: PlatformHandle) -> None:
    schemas = document(platform)["components"]["schemas"]
    assert schemas["AiLlmStats"]["properties"]["totalApiCalls"]["type"] == "string"
    secret = schemas["RepoAiApiKeyCreated"]["properties"]["secret"]
    assert secret["type"] == "string" and "writeOnly" not in secret


def test_partial_updates_do_not_document_nulls_they_refuse(platform: PlatformHandle) -> None:
    update = document(platform)["components"]["schemas"]["AiLlmUpdate"]["properties"]
    for field in ("name", "aiType", "secret", "apiKeyUuid"):
        assert "anyOf" not in update[field], field
    assert "anyOf" in update["endpoint"]  # null resets it to the default: allowed


def test_name_and_credential_patterns_match_the_server_rules(platform: PlatformHandle) -> None:
    create = document(platform)["components"]["schemas"]["AiLlmCreate"]["properties"]
    name, secret = create["name"]["pattern"], create["secret"]["pattern"]
    assert re.search(name, "My config é") and not re.search(name, "a\x00b")
    assert not re.search(name, "   ")
    assert re.search(secret, " sk-abc ") and not re.search(secret, "sk-é")
    assert not re.search(secret, "sk a")


def test_the_gateway_documents_its_body_errors_and_bearer(platform: PlatformHandle) -> None:
    doc = document(platform)
    chat = doc["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "messages"]
    assert {"400", "401", "413", "431", "502", "504"} <= set(chat["responses"])
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert chat["security"] and "repositoryAiKey" in doc["components"]["securitySchemes"]
