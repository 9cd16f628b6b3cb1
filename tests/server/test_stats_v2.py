"""The usage time series (``/aistats/minute``, ``/aistats/daily``) through HTTP.

Usage is written through the store (any labels, any time) or made by real gateway calls with
the official ``openai`` SDK; every CSV filter, the date checks and the row shape are proven on
the answers.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
import pytest

from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import usage as usage_store
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider

AT = 1_750_000_000_000  # 2025-06-15T15:06:40Z
MINUTE = AT - AT % usage_store.MINUTE_MS
WINDOW = {"startDate": "2025-06-15T00:00:00.000Z", "endDate": "2025-06-16T00:00:00.000Z"}
STRING_COUNTERS = ("tokensIn", "tokensOut", "llmTokensIn", "llmTokensOut")
NUMBER_COUNTERS = ("activeConversations", "apiCalls", "policyViolations", "numAlerts",
                   "numBlocks", "numSeverityLow", "numSeverityMedium", "numSeverityHigh")
STRING_LABELS = ("repoId", "aiLlmId", "repoAiApiKeyId", "llmType", "llmModel", "host",
                 "userUuid", "conversationUuid")


@pytest.fixture
def http(platform: Any) -> Any:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_llm(http: httpx.Client, world: Any) -> str:
    body = {"name": f"cfg-{uuid.uuid4().hex[:8]}", "aiType": "OPENAI", "secret": "sk-stats",
            "workspaceId": world.workspace_id}
    answer = http.post("/ai/llm", json=body, headers=auth(world.tokens["WRITE"]))
    assert answer.status_code == 200, answer.text
    return answer.json()["aiLlmId"]


#: Two rows that differ in every label (and a third at another minute).
ROWS = [
    dict(repo_id="repo-a", repo_ai_api_key_id="key-a", llm_type="OPENAI", llm_model="gpt-a",
         host="a.test", user_uuid="u-a", conversation_uuid="11111111-1111-1111-1111-111111111111",
         api_calls=2, tokens_in=7, tokens_out=9, llm_tokens_in=3, llm_tokens_out=4,
         active_conversations=1, latency_ms=40.0),
    dict(repo_id="repo-b", repo_ai_api_key_id="key-b", llm_type="OTHER", llm_model="gpt-b",
         host="b.test", user_uuid="u-b", conversation_uuid="22222222-2222-2222-2222-222222222222",
         api_calls=1, tokens_in=1, num_blocks=1, num_severity_high=1, policy_violations=1,
         latency_ms=10.0),
]


@pytest.fixture
def seeded(http: httpx.Client, platform: Any, world: Any) -> dict[str, Any]:
    """Two configurations with the ROWS (the second also one minute later)."""
    first, second = new_llm(http, world), new_llm(http, world)
    with PlatformState.open(platform.data_dir) as state:
        conn = state.db.conn()
        usage_store.record_usage(conn, first, at_ms=AT, **ROWS[0])
        usage_store.record_usage(conn, second, at_ms=AT, **ROWS[1])
        usage_store.record_usage(conn, second, at_ms=AT + usage_store.MINUTE_MS, **ROWS[1])
    return {"first": first, "second": second, "headers": auth(world.tokens["READ"])}


def series(http: httpx.Client, headers: dict[str, str], path: str = "/aistats/minute",
           **params: str) -> list[dict[str, Any]]:
    answer = http.get(path, params={**WINDOW, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    return body["data"]


def test_rows_carry_every_field_with_the_contract_types(http: httpx.Client,
                                                        seeded: dict[str, Any]) -> None:
    rows = series(http, seeded["headers"], aiLlmId=seeded["first"])
    (row,) = rows
    assert set(row) == {"timestamp", "latency_ms", *STRING_COUNTERS, *NUMBER_COUNTERS,
                        *STRING_LABELS}
    assert row["timestamp"] == MINUTE
    assert [row[c] for c in STRING_COUNTERS] == ["7", "9", "3", "4"]
    assert all(isinstance(row[c], int) for c in NUMBER_COUNTERS)
    assert (row["apiCalls"], row["activeConversations"], row["latency_ms"]) == (2, 1, 20.0)
    assert (row["repoId"], row["repoAiApiKeyId"], row["llmType"], row["llmModel"], row["host"],
            row["userUuid"], row["conversationUuid"]) == (
        "repo-a", "key-a", "OPENAI", "gpt-a", "a.test", "u-a", ROWS[0]["conversation_uuid"])


def test_unknown_labels_are_empty_strings(http: httpx.Client, platform: Any,
                                          world: Any) -> None:
    llm_id = new_llm(http, world)
    with PlatformState.open(platform.data_dir) as state:
        usage_store.record_usage(state.db.conn(), llm_id, at_ms=AT, api_calls=1)
    (row,) = series(http, auth(world.tokens["READ"]), aiLlmId=llm_id)
    assert all(row[label] == "" for label in STRING_LABELS if label != "aiLlmId")


FILTERS = {
    "repoId": ("repo-a", "repo-b"),
    "repoAiApiKeyId": ("key-a", "key-b"),
    "hosts": ("a.test", "b.test"),
    "llmType": ("OPENAI", "OTHER"),
    "llmModel": ("gpt-a", "gpt-b"),
    "userUuid": ("u-a", "u-b"),
    "conversationUuid": (ROWS[0]["conversation_uuid"], ROWS[1]["conversation_uuid"]),
}


@pytest.mark.parametrize("path", ["/aistats/minute", "/aistats/daily"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_every_filter_keeps_only_its_values(name: str, path: str, http: httpx.Client,
                                            seeded: dict[str, Any]) -> None:
    a, b = FILTERS[name]
    ids = f"{seeded['first']},{seeded['second']}"
    only_a = series(http, seeded["headers"], path, aiLlmId=ids, **{name: a})
    assert [r["aiLlmId"] for r in only_a] == [seeded["first"]]
    only_b = series(http, seeded["headers"], path, aiLlmId=ids, **{name: b})
    assert {r["aiLlmId"] for r in only_b} == {seeded["second"]}
    both = series(http, seeded["headers"], path, aiLlmId=ids, **{name: f"{a},{b}"})
    assert {r["aiLlmId"] for r in both} == {seeded["first"], seeded["second"]}
    assert series(http, seeded["headers"], path, aiLlmId=ids, **{name: "none-such"}) == []


def test_csv_arrives_percent_encoded(http: httpx.Client, seeded: dict[str, Any]) -> None:
    ids = f"{seeded['first']}%2C{seeded['second']}"
    answer = http.get(f"/aistats/minute?startDate=2025-06-15T00%3A00%3A00.000Z"
                      f"&endDate=2025-06-16T00%3A00%3A00.000Z&aiLlmId={ids}"
                      f"&llmModel=gpt-a%2Cgpt-b", headers=seeded["headers"])
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]) == 3  # first once, second at two minutes


def test_dates_bound_the_series(http: httpx.Client, seeded: dict[str, Any]) -> None:
    ids = f"{seeded['first']},{seeded['second']}"
    first_minute = {"startDate": "2025-06-15T15:06:00.000Z",
                    "endDate": "2025-06-15T15:06:59.999Z"}
    rows = http.get("/aistats/minute", params={**first_minute, "aiLlmId": ids},
                    headers=seeded["headers"]).json()["data"]
    assert {r["timestamp"] for r in rows} == {MINUTE} and len(rows) == 2
    daily = series(http, seeded["headers"], "/aistats/daily", aiLlmId=seeded["second"])
    (day,) = daily  # the same key on two minutes: one daily row
    assert day["timestamp"] == AT - AT % usage_store.DAY_MS
    assert (day["apiCalls"], day["numBlocks"], day["tokensIn"]) == (2, 2, "2")


def test_date_errors_are_400(http: httpx.Client, world: Any) -> None:
    headers = auth(world.tokens["READ"])
    for path in ("/aistats/minute", "/aistats/daily"):
        later_start = http.get(path, params={"startDate": "2025-02-01T00:00:00.000Z",
                                             "endDate": "2025-01-01T00:00:00.000Z"},
                               headers=headers)
        assert later_start.status_code == 400
        assert "startDate" in later_start.json()["message"]
        for field in ("startDate", "endDate"):
            bad = http.get(path, params={field: "not a date"}, headers=headers)
            assert bad.status_code == 400 and field in bad.json()["message"]


def test_an_empty_query_is_accepted(http: httpx.Client, world: Any) -> None:
    for path in ("/aistats/minute?", "/aistats/daily?"):
        answer = http.get(path, headers=auth(world.tokens["READ"]))
        assert answer.status_code == 200
        assert answer.json() == {"success": True, "data": []}


def test_only_data_the_caller_may_see(http: httpx.Client, seeded: dict[str, Any],
                                      world: Any) -> None:
    outsider = auth(world.tokens["NONE"])
    assert series(http, outsider, repoId="repo-a,repo-b") == []
    assert http.get("/aistats/minute", params={**WINDOW, "aiLlmId": seeded["first"]},
                    headers=outsider).status_code == 404


def link(platform: Any, world: Any, endpoint: str) -> tuple[str, str, str]:
    """Configuration -> repository -> AI API key through the API: (llm id, gateway URL, key)."""
    api = httpx.Client(base_url=platform.url, headers=auth(world.tokens["WRITE"]), timeout=10)
    with api:
        llm_id = api.post("/ai/llm", json={
            "name": "gw", "aiType": "OPENAI", "endpoint": endpoint,
            "secret": DEFAULT_VALID_KEY, "workspaceId": world.workspace_id}).json()["aiLlmId"]
        repo = api.post("/repo", json={
            "name": "gw-repo", "workspaceId": world.workspace_id, "storageType": "S3",
            "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm_id}]})
        assert repo.status_code == 200, repo.text
        key = api.post(f"/repo/{repo.json()['repoId']}/ai/apikey",
                       json={"name": "ci", "aiType": "OPENAI"})
        assert key.status_code == 200, key.text
    return llm_id, f"{platform.url}/v1", key.json()["secret"]


def test_gateway_calls_fill_user_and_conversation(http: httpx.Client, platform: Any,
                                                  world: Any) -> None:
    headers = auth(world.tokens["READ"])
    with FakeProvider() as provider:
        llm_id, base_url, secret = link(platform, world, provider.endpoint("ok"))
        host = f"127.0.0.1:{provider.port}"
        client = openai.OpenAI(base_url=base_url, api_key=secret, max_retries=0)
        opening = [{"role": "user", "content": "one two three"}]
        client.chat.completions.create(model="fake-gpt-small", messages=opening, user="u-123")
        client.chat.completions.create(model="fake-gpt-small", messages=[
            *opening, {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "four"}], user="u-123")
        client.chat.completions.create(model="fake-gpt-small",
                                       messages=[{"role": "user", "content": "other"}])

    def rows(path: str = "/aistats/minute", **params: str) -> list[dict[str, Any]]:
        answer = http.get(path, params={"aiLlmId": llm_id, **params}, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    every = rows()
    assert {r["userUuid"] for r in every} == {"u-123", ""}
    mine = [r for r in every if r["userUuid"] == "u-123"]
    assert sum(r["apiCalls"] for r in mine) == 2
    assert sum(int(r["tokensIn"]) for r in mine) == 8  # 3, then 3 + 1 + 1 words
    assert sum(int(r["llmTokensIn"]) for r in mine) == 8
    (chat,) = {r["conversationUuid"] for r in mine}
    assert str(uuid.UUID(chat)) == chat
    assert {r["conversationUuid"] for r in every} == {chat, next(
        r["conversationUuid"] for r in every if r["userUuid"] == "")}
    by_user = rows(userUuid="u-123")
    assert {r["conversationUuid"] for r in by_user} == {chat}
    by_chat = rows("/aistats/daily", conversationUuid=chat)
    assert [(r["apiCalls"], r["userUuid"], r["activeConversations"]) for r in by_chat] == [
        (2, "u-123", 1)]
    assert rows(hosts=host, llmModel="fake-gpt-small",
                llmType="OPENAI") == every
    stats = http.get("/ai/llm/stats", params={"aiLlmId": llm_id}, headers=headers).json()
    assert stats["stats"][0]["totalApiCalls"] == "3"
