"""A server built in-process on a hand-moved clock: times and minutes follow that clock.

The usage of two gateway calls a minute apart lands in two minute rows because the clock
was moved a minute, not because the test waited one; a system event carries the clock's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from flashback_tui.server import admin
from flashback_tui.server.app import create_app
from flashback_tui.server.config import ServerSettings
from tests.support.clock import ManualClock
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider

EMAIL = "owner@example.test"


@dataclass
class InProcess:
    """The app under a test client, its clock, and a gateway key on the fake provider."""

    client: TestClient
    clock: ManualClock
    llm_id: str
    secret: str


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[InProcess]:
    data_dir = tmp_path / "data"
    clock = ManualClock()
    with FakeProvider() as provider, \
            TestClient(create_app(ServerSettings(data_dir=data_dir), clock=clock)) as client:
        admin.add_user(data_dir, EMAIL, org_role="OWNER")
        client.headers["Authorization"] = f"Bearer {admin.create_token(data_dir, EMAIL)}"
        workspace = client.post("/workspace", json={"name": "clocked"}).json()["workspace"]
        llm = client.post("/ai/llm", json={
            "name": "fake", "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
            "secret": DEFAULT_VALID_KEY, "workspaceId": workspace["id"]}).json()
        repo = client.post("/repo", json={
            "name": "clocked", "workspaceId": workspace["id"], "storageType": "S3",
            "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm["aiLlmId"]}]}).json()
        key = client.post(f"/repo/{repo['repoId']}/ai/apikey",
                          json={"name": "ci", "aiType": "OPENAI"}).json()
        yield InProcess(client, clock, llm["aiLlmId"], key["secret"])


def test_usage_minutes_follow_the_injected_clock(in_process: InProcess) -> None:
    sdk = openai.OpenAI(base_url="http://testserver/v1", api_key=in_process.secret,
                        http_client=in_process.client, max_retries=0)
    ask = [{"role": "user", "content": "hello"}]
    sdk.chat.completions.create(model="fake-gpt-small", messages=ask)  # type: ignore[arg-type]
    in_process.clock.advance(60)
    sdk.chat.completions.create(model="fake-gpt-small", messages=ask)  # type: ignore[arg-type]
    rows = in_process.client.get("/aistats/minute", params={
        "aiLlmId": in_process.llm_id, "startDate": "2026-01-15T00:00:00Z",
        "endDate": "2026-01-16T00:00:00Z"}).json()["data"]
    start = int(in_process.clock.at.timestamp() * 1000) - 60_000
    assert sorted(row["timestamp"] for row in rows) == [start, start + 60_000]
    assert [row["apiCalls"] for row in rows] == [1, 1]


def test_events_carry_the_injected_time(in_process: InProcess) -> None:
    page = in_process.client.post("/systemevent", json={"skip": 0, "take": 5}).json()
    assert page["events"]
    assert {event["timestamp"] for event in page["events"]} == {"2026-01-15T10:30:00.000Z"}
