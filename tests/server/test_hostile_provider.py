"""The hostile provider stand-in itself: every mode misbehaves as documented, and nothing hangs.

Raw ``httpx`` only (no SDK), so each test sees exactly the bytes the mode puts on the wire.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.hostile_provider import (
    BAD_JSON,
    MODES,
    REDACTED,
    SHAPE_MODES,
    TOKEN_VALUES,
    HostileProvider,
)

pytestmark = pytest.mark.no_database

KEY = "sk-hostile-provider-test-key-0001"
MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there hostile provider"}]
CHAT = {"model": "fake-gpt-small", "messages": MESSAGES}
STREAM = {**CHAT, "stream": True}
REPLY = "You said: hello there hostile provider"


@pytest.fixture(scope="module")
def provider() -> Iterator[HostileProvider]:
    with HostileProvider() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
        yield client


def chat(http: httpx.Client, base: str, body: dict[str, Any] = CHAT) -> httpx.Response:
    return http.post(f"{base}/chat/completions", json=body)


def events_of(raw: bytes) -> list[bytes]:
    """The ``data:`` payloads of an event stream, in order."""
    return [block.removeprefix(b"data: ") for block in raw.split(b"\n\n") if block]


def stream_raw(http: httpx.Client, base: str, body: dict[str, Any] = STREAM) -> tuple[str, bytes]:
    with http.stream("POST", f"{base}/chat/completions", json=body) as response:
        assert response.status_code == 200
        return response.headers["content-type"], response.read()


# -- the baseline ---------------------------------------------------------------------------


def test_ok_answers_like_a_provider(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("ok")
    answer = chat(http, base).json()
    assert answer["choices"][0]["message"]["content"] == REPLY
    assert answer["usage"] == {"prompt_tokens": 6, "completion_tokens": 6, "total_tokens": 12}
    models = http.get(f"{base}/models").json()
    assert [m["id"] for m in models["data"]] == ["fake-gpt-small", "fake-gpt-large",
                                                 "fake-embedding"]
    kind, raw = stream_raw(http, base, {**STREAM, "stream_options": {"include_usage": True}})
    events = events_of(raw)
    assert kind == "text/event-stream" and events[-1] == b"[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == REPLY
    assert chunks[-1]["usage"]["total_tokens"] == 12


def test_requests_are_recorded_with_credentials_redacted(provider: HostileProvider,
                                                         http: httpx.Client) -> None:
    provider.clear()
    chat(http, provider.endpoint("tokens-bool"), STREAM)
    [entry] = provider.requests_for("tokens-bool")
    assert (entry.method, entry.path, entry.stream) == (
        "POST", "/tokens-bool/v1/chat/completions", True)
    assert entry.headers["authorization"] == REDACTED
    assert KEY not in repr(entry)
    assert entry.json()["messages"] == MESSAGES
    assert entry.wait_done() and entry.answered and not entry.client_gone


def test_unknown_modes_and_paths(provider: HostileProvider, http: httpx.Client) -> None:
    assert http.get(f"{provider.url}/nope/v1/models").status_code == 404
    assert http.get(f"{provider.endpoint('ok')}/embeddings").status_code == 404
    with pytest.raises(ValueError):
        provider.endpoint("nope")
    with pytest.raises(ValueError):
        provider.endpoint("html", 5)
    assert provider.endpoint("huge", 1048576).endswith("/huge/1048576/v1")
    assert len(MODES) == len(set(MODES))


# -- lies in well-formed JSON ---------------------------------------------------------------


@pytest.mark.parametrize("mode", list(TOKEN_VALUES))
def test_token_counts_lie(provider: HostileProvider, http: httpx.Client, mode: str) -> None:
    value = TOKEN_VALUES[mode]
    base = provider.endpoint(mode)
    response = chat(http, base)
    assert response.status_code == 200
    assert response.json()["usage"] == dict.fromkeys(
        ("prompt_tokens", "completion_tokens", "total_tokens"), value)
    if mode == "tokens-huge":
        assert b'"prompt_tokens": 18446744073709551616' in response.content
    _, raw = stream_raw(http, base)  # no include_usage asked: the usage chunk comes anyway
    usage = json.loads(events_of(raw)[-2])["usage"]
    assert usage["prompt_tokens"] == value and type(usage["prompt_tokens"]) is type(value)
    assert http.get(f"{base}/models").json()["data"][0]["id"] == "fake-gpt-small"


def test_shapes_are_wrong(provider: HostileProvider, http: httpx.Client) -> None:
    def answer(mode: str) -> Any:
        return chat(http, provider.endpoint(mode)).json()

    def stream(mode: str) -> list[Any]:
        return [json.loads(e) for e in events_of(stream_raw(http, provider.endpoint(mode))[1])
                if e != b"[DONE]"]

    def models(mode: str) -> Any:
        return http.get(f"{provider.endpoint(mode)}/models").json()

    assert answer("shape-tool-calls")["choices"][0]["message"]["tool_calls"] == 5
    assert {"tool_calls": 5} in [c["choices"][0]["delta"] for c in stream("shape-tool-calls")]
    assert models("shape-tool-calls")["data"] == [{"id": 5, "object": "model"}]
    assert isinstance(answer("shape-choices")["choices"], dict)
    assert all(isinstance(c["choices"], dict) for c in stream("shape-choices"))
    assert isinstance(models("shape-choices")["data"], dict)
    assert answer("shape-usage")["usage"] == "plenty"
    assert stream("shape-usage")[-1]["usage"] == "plenty"
    assert models("shape-usage")["data"] == "fake-gpt-small"
    assert answer("shape-content")["choices"][0]["message"]["content"] == 42
    assert {"content": 42} in [c["choices"][0]["delta"] for c in stream("shape-content")]
    assert isinstance(answer("shape-list"), list) and isinstance(models("shape-list"), list)
    assert all(isinstance(c, list) for c in stream("shape-list"))
    assert answer("shape-null") is None and models("shape-null") is None
    assert set(stream("shape-null")) == {None}
    assert set(SHAPE_MODES) <= set(MODES)


def test_stream_flag_ignored_either_way(provider: HostileProvider, http: httpx.Client) -> None:
    kind, raw = stream_raw(http, provider.endpoint("ignore-stream"))
    assert kind == "application/json" and json.loads(raw)["object"] == "chat.completion"
    response = chat(http, provider.endpoint("always-stream"))
    assert response.headers["content-type"] == "text/event-stream"
    assert events_of(response.content)[-1] == b"[DONE]"


# -- broken bodies --------------------------------------------------------------------------


def test_bad_json_everywhere(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("bad-json")
    for response in (chat(http, base), chat(http, base, STREAM), http.get(f"{base}/models")):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == BAD_JSON
        with pytest.raises(ValueError):
            response.json()


def test_html_everywhere(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("html")
    for response in (chat(http, base), chat(http, base, STREAM), http.get(f"{base}/models")):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.startswith("<!doctype html>")


def test_cutoff_breaks_off(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("cutoff")
    for method, url, body in (("POST", f"{base}/chat/completions", CHAT),
                              ("GET", f"{base}/models", None)):
        with http.stream(method, url, json=body) as response:
            assert response.status_code == 200 and int(response.headers["content-length"]) > 0
            with pytest.raises(httpx.RemoteProtocolError):
                response.read()
    received = b""
    with http.stream("POST", f"{base}/chat/completions", json=STREAM) as response:
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in response.iter_raw():
                received += piece
    events = events_of(received)
    assert len(events) == 3 and b"[DONE]" not in received
    assert json.loads(events[1])["choices"][0]["delta"]["content"] == "You"


def test_malformed_event_mid_stream(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("malformed-event")
    events = events_of(stream_raw(http, base)[1])
    assert events[1] == b'{"id": "chatcmpl-' and events[-1] == b"[DONE]"
    with pytest.raises(ValueError):
        json.loads(events[1])
    assert all(json.loads(e) for e in events[2:-1])
    assert chat(http, base).json()["choices"][0]["message"]["content"] == REPLY


# -- time and size --------------------------------------------------------------------------


def test_silent_times_out_and_sees_the_client_leave(provider: HostileProvider,
                                                    http: httpx.Client) -> None:
    provider.clear()
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post(f"{provider.endpoint('silent')}/chat/completions", json=CHAT, timeout=0.3)
    assert time.monotonic() - started < 2
    [entry] = provider.requests_for("silent")
    assert entry.wait_done(3) and entry.client_gone and not entry.answered


def test_silent_is_released_when_the_provider_stops() -> None:
    outcome: list[BaseException | httpx.Response] = []

    def call(url: str) -> None:
        try:
            outcome.append(httpx.get(url, timeout=None))
        except httpx.HTTPError as error:
            outcome.append(error)

    with HostileProvider() as provider:
        threads = [threading.Thread(target=call, args=(f"{provider.endpoint(mode)}/models",))
                   for mode in ("silent", "slow", "stall")]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while len(provider.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # stall has sent half its body
        started = time.monotonic()
    for thread in threads:
        thread.join(timeout=5)
    assert time.monotonic() - started < 3
    assert len(outcome) == 3 and all(isinstance(o, httpx.RemoteProtocolError) for o in outcome)
    assert all(r.wait_done(5) and not r.answered for r in provider.requests)


def test_slow_first_byte(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("slow", 300)
    started = time.monotonic()
    assert chat(http, base).json()["choices"][0]["message"]["content"] == REPLY
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"{base}/models", timeout=0.05)


def test_stall_between_chunks(provider: HostileProvider, http: httpx.Client) -> None:
    base = provider.endpoint("stall", 200)
    arrivals = []
    with http.stream("POST", f"{base}/chat/completions", json=STREAM) as response:
        for _ in response.iter_raw():
            arrivals.append(time.monotonic())
    assert len(arrivals) >= 4
    assert arrivals[2] - arrivals[1] >= 0.15
    started = time.monotonic()
    assert chat(http, base).json()["usage"]["total_tokens"] == 12
    assert time.monotonic() - started >= 0.2


def test_huge_with_length(provider: HostileProvider, http: httpx.Client) -> None:
    size = 1024 * 1024
    base = provider.endpoint("huge", size)
    response = chat(http, base)
    assert int(response.headers["content-length"]) == len(response.content) >= size
    assert len(response.json()["choices"][0]["message"]["content"]) >= size - 65536
    models = http.get(f"{base}/models")
    assert len(models.content) >= size and len(models.json()["data"]) > 10000
    events = events_of(stream_raw(http, base)[1])
    assert events[-1] == b"[DONE]" and sum(map(len, events)) >= size - 70000
    assert all(json.loads(e) for e in events[:-1])


def test_huge_chunked_and_endless_line(provider: HostileProvider, http: httpx.Client) -> None:
    size = 1024 * 1024
    base = provider.endpoint("huge-chunked", size)
    response = chat(http, base)
    assert "content-length" not in response.headers
    assert len(response.content) >= size and response.json()["object"] == "chat.completion"
    kind, raw = stream_raw(http, base)
    assert kind == "text/event-stream" and len(raw) >= size
    assert b"\n" not in raw and raw.startswith(b"data: {")


def test_huge_stops_when_the_client_leaves(provider: HostileProvider) -> None:
    provider.clear()
    with httpx.Client(timeout=10) as client, client.stream(
        "GET", f"{provider.endpoint('huge', 512 * 1024 * 1024)}/models"
    ) as response:
        next(response.iter_raw())
    [entry] = provider.requests_for("huge")
    assert entry.wait_done(5) and entry.client_gone
