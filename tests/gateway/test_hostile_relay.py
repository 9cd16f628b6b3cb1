"""The gateway under providers that misbehave, through the official ``openai`` SDK.

Every mode of :class:`tests.support.hostile_provider.HostileProvider`, plain and streamed:
the client gets a completion or the documented error (502 for a reply that is not what it
should be, 504 for a provider that does not answer in time, an error event the SDK raises for
a stream that breaks off), never a 500 or half an answer that looks complete. Every call is
counted for its own configuration, a well-behaved configuration's counts stay exact, and a
restart of the server loses none of them. The server is this module's own, with upstream
timeouts of about a second so the silent and stalling modes end quickly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest

from flashback_tui.server.runner import LocalServer
from tests.support.backends import backend_env
from tests.support.fake_provider import DEFAULT_VALID_KEY
from tests.support.hostile_provider import MODES, HostileProvider

TIMEOUT = "1"
SHORT = {"slow": 100, "stall": 3000, "huge": 256 * 1024, "huge-chunked": 256 * 1024}
#: What a plain call ends with: "ok" (a completion), or the status the SDK raises.
PLAIN = {
    "shape-list": 502, "shape-null": 502, "always-stream": 502, "bad-json": 502, "html": 502,
    "cutoff": 502, "silent": 504, "stall": 504,
}
#: What a streamed call ends with: "ok", "event" (an error event the SDK raises mid-stream),
#: or the status the SDK raises at once.
STREAM = {
    "shape-list": "event", "shape-null": "event", "ignore-stream": "event", "bad-json": "event",
    "html": "event", "cutoff": "event", "malformed-event": "event", "silent": 504,
    "stall": "event", "huge-chunked": "event",
}
MESSAGES = [{"role": "user", "content": "hello there"}]


@dataclass
class Platform:
    """This module's server, its admin API and a workspace."""

    server: LocalServer
    api: httpx.Client
    workspace_id: str
    #: What points a process at this platform's database (empty on SQLite).
    env: dict[str, str] = field(default_factory=dict)


def _api(server: LocalServer) -> httpx.Client:
    token = server.admin_token.get_secret_value()
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=30)


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileProvider]:
    with HostileProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, db_backend: str) -> Path:
    return tmp_path_factory.mktemp(f"hostile-{db_backend}") / "data"


ENV = {"FLASHBACK_UPSTREAM_FIRST_BYTE_TIMEOUT": TIMEOUT, "FLASHBACK_PROBE_TIMEOUT": TIMEOUT,
       "FLASHBACK_UPSTREAM_CHUNK_TIMEOUT": TIMEOUT, "NO_PROXY": "*", "no_proxy": "*"}


@pytest.fixture(scope="module")
def platform(data_dir: Path, db_backend: str) -> Iterator[Platform]:
    database = backend_env(db_backend)
    with LocalServer(data_dir, env={**ENV, **database}) as server, _api(server) as api:
        answer = api.post("/workspace", json={"name": "hostile"})
        assert answer.status_code == 200, answer.text
        yield Platform(server, api, answer.json()["workspace"]["id"], env=database)


def _key(platform: Platform, endpoint: str, tag: str) -> tuple[str, str]:
    """A configuration on ``endpoint``, a repository using it: (config id, key secret)."""
    api = platform.api
    llm = api.post("/ai/llm", json={"name": tag, "aiType": "OPENAI", "endpoint": endpoint,
                                    "secret": DEFAULT_VALID_KEY,
                                    "workspaceId": platform.workspace_id}).json()
    repo = api.post("/repo", json={
        "name": tag, "workspaceId": platform.workspace_id, "storageType": "S3",
        "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm["aiLlmId"]}]}).json()
    key = api.post(f"/repo/{repo['repoId']}/ai/apikey",
                   json={"name": tag, "aiType": "OPENAI"}).json()
    return llm["aiLlmId"], key["secret"]


def _client(platform: Platform, secret: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{platform.server.url}/v1", api_key=secret, max_retries=0,
                         timeout=30)


def plain_outcome(client: openai.OpenAI) -> object:
    try:
        answer = client.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    except openai.APIStatusError as exc:
        if not (isinstance(exc.body, dict) and exc.body.get("message")):
            return f"no error body: {exc}"
        return exc.status_code
    assert answer.id
    return "ok"


def stream_outcome(client: openai.OpenAI) -> object:
    try:
        stream = client.chat.completions.create(model="m", messages=MESSAGES,  # type: ignore[arg-type]
                                                stream=True)
    except openai.APIStatusError as exc:
        return exc.status_code
    try:
        for _ in stream:
            pass
    except openai.APIError as exc:
        if "stream" not in exc.message and "event" not in exc.message:
            return f"unclear: {exc.message}"
        return "event"
    except Exception as exc:  # what the SDK raises on something it cannot read
        return f"{type(exc).__name__}"
    return "ok"


def _stats(api: httpx.Client) -> dict[str, dict[str, str]]:
    answer = api.get("/ai/llm/stats")
    assert answer.status_code == 200
    return {row["aiLlmId"]: row for row in answer.json()["stats"]}


def test_every_mode_gets_the_documented_answer_and_counts_survive_a_restart(
        platform: Platform, hostile: HostileProvider, data_dir: Path) -> None:
    good_id, good_secret = _key(platform, hostile.endpoint("ok"), "well-behaved")
    good = _client(platform, good_secret)
    outcomes: dict[str, tuple[object, object]] = {}
    calls: dict[str, int] = {}
    ids: dict[str, str] = {}
    for mode in MODES:
        if mode == "ok":
            continue
        llm_id, secret = _key(platform, hostile.endpoint(mode, SHORT.get(mode)), mode)
        client = _client(platform, secret)
        outcomes[mode] = (plain_outcome(client), stream_outcome(client))
        calls[llm_id], ids[mode] = 2, llm_id
        assert plain_outcome(good) == "ok"  # the well-behaved one, between every two
    expected = {mode: (PLAIN.get(mode, "ok"), STREAM.get(mode, "ok")) for mode in outcomes}
    assert outcomes == expected
    stats = _stats(platform.api)
    for llm_id, count in calls.items():
        assert int(stats[llm_id]["totalApiCalls"]) == count, stats[llm_id]
    # A provider that answers a stream request with plain JSON: its usage is still counted.
    assert int(stats[ids["ignore-stream"]]["totalLlmTokensIn"]) == 2 * 2
    well = stats[good_id]
    assert int(well["totalApiCalls"]) == len(calls)
    assert int(well["totalLlmTokensIn"]) == 2 * len(calls)  # "hello there": two words
    platform.server.stop()
    platform.server.start()
    with _api(platform.server) as api:
        assert _stats(api) == stats


def test_validation_against_every_mode_is_a_200_with_a_verdict(
        platform: Platform, hostile: HostileProvider) -> None:
    for mode in MODES:
        llm_id, _ = _key(platform, hostile.endpoint(mode, SHORT.get(mode)), f"check-{mode}")
        answer = platform.api.post(f"/ai/llm/{llm_id}/validate")
        assert answer.status_code == 200, (mode, answer.text)
        verdict = answer.json()
        assert isinstance(verdict["success"], bool) and verdict["message"].strip(), mode
        if mode in ("ok", "slow") or mode.startswith("tokens-"):
            assert verdict["success"], (mode, verdict)
        if mode in ("bad-json", "html", "silent", "shape-null", "shape-list"):
            assert not verdict["success"], (mode, verdict)
