"""Transport mechanics of FlashbackClient: retries, timeouts, refused connections, bad answers.

The retry counts use ``httpx.MockTransport`` because a real server cannot be made to answer
503 on demand; everything else here talks to sockets on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx
import pytest

from flashback_tui.api.client import MAX_MESSAGE, USER_AGENT, FlashbackClient
from flashback_tui.api.errors import (
    BadRequestError,
    FlashbackConnectionError,
    FlashbackTimeoutError,
    ServerError,
    UnexpectedResponseError,
)
from flashback_tui.api.models import AiLlmCreate, AiLlmUpdate, AiType
from flashback_tui.net import proxy_for

FAST_RETRIES = (0.01, 0.01)
WORKSPACES_OK = {"success": True, "workspaces": []}


def counting_transport(
    answer: Callable[[httpx.Request, int], httpx.Response],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A MockTransport that records every request and answers ``answer(request, n)``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request, len(seen))

    return httpx.MockTransport(handler), seen


def unavailable(_request: httpx.Request, _n: int) -> httpx.Response:
    return httpx.Response(503, json={"success": False, "message": "warming up"})


def mock_client(transport: httpx.MockTransport) -> FlashbackClient:
    return FlashbackClient(
        "http://127.0.0.1:9", token="t", transport=transport, retry_delays=FAST_RETRIES
    )


# -- retries (MockTransport) ----------------------------------------------------------------


async def test_get_gives_up_after_three_tries_on_5xx() -> None:
    transport, seen = counting_transport(unavailable)
    async with mock_client(transport) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_workspaces()
    assert len(seen) == 3
    assert caught.value.status == 503
    assert caught.value.message == "warming up"
    assert caught.value.request == "GET /workspace"


async def test_get_succeeds_when_a_retry_does() -> None:
    def flaky(_request: httpx.Request, n: int) -> httpx.Response:
        return unavailable(_request, n) if n == 1 else httpx.Response(200, json=WORKSPACES_OK)

    transport, seen = counting_transport(flaky)
    async with mock_client(transport) as client:
        answer = await client.get_workspaces()
    assert answer.workspaces == []
    assert len(seen) == 2


async def test_get_retries_connection_errors_then_raises_from_the_cause() -> None:
    def refuse(request: httpx.Request, _n: int) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport, seen = counting_transport(refuse)
    async with mock_client(transport) as client:
        with pytest.raises(FlashbackConnectionError) as caught:
            await client.get_ai_llms()
    assert len(seen) == 3
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.status is None
    assert caught.value.request == "GET /ai/llm"


async def test_read_timeout_is_not_retried() -> None:
    def stall(request: httpx.Request, _n: int) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    transport, seen = counting_transport(stall)
    async with mock_client(transport) as client:
        with pytest.raises(FlashbackTimeoutError):
            await client.get_ai_llm_stats()
    assert len(seen) == 1


@pytest.mark.parametrize("failure", ["503", "connect"])
async def test_post_put_delete_and_validate_are_never_retried(failure: str) -> None:
    def fail(request: httpx.Request, n: int) -> httpx.Response:
        if failure == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        return unavailable(request, n)

    transport, seen = counting_transport(fail)
    body = AiLlmCreate(name="x", ai_type=AiType.OPENAI, workspace_id="w")
    calls = [
        lambda c: c.create_ai_llm(body),
        lambda c: c.update_ai_llm("id-1", AiLlmUpdate(name="y")),
        lambda c: c.delete_ai_llm("id-1"),
        lambda c: c.validate_ai_llm("id-1"),
    ]
    async with mock_client(transport) as client:
        for call in calls:
            with pytest.raises((ServerError, FlashbackConnectionError)):
                await call(client)
    assert [r.method for r in seen] == ["POST", "PUT", "DELETE", "POST"]


# -- real sockets on loopback -------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_closed_port_is_a_connection_error(closed_port: int) -> None:
    async with FlashbackClient(f"http://127.0.0.1:{closed_port}", retry_delays=()) as client:
        with pytest.raises(FlashbackConnectionError) as caught:
            await client.get_workspaces()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert f"127.0.0.1:{closed_port}" in str(caught.value)


async def test_silent_server_is_a_timeout(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}"
    async with FlashbackClient(url, token="t", timeout=0.3) as client:
        with pytest.raises(FlashbackTimeoutError) as caught:
            await client.get_ai_llms()
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert caught.value.request == "GET /ai/llm"
    assert "0.3 s" in str(caught.value)


async def test_non_json_200_is_an_unexpected_response(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/html", token="t") as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.get_workspaces()
    assert caught.value.status == 200
    assert caught.value.request == "GET /workspace"


async def test_wrongly_shaped_json_is_an_unexpected_response(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/shape", token="t") as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.get_workspaces()
    assert "workspaces" in caught.value.message


async def test_a_malformed_login_answer_never_echoes_its_tokens(stand_in, canary: str) -> None:
    """The login answer lacks ``user`` but carries a token: the error must not repeat it."""
    async with FlashbackClient(stand_in.url + "/shape", token="t") as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.login("someone@example.com", "pw")
    error = caught.value
    for text in (str(error), repr(error), error.message, repr(error.__cause__)):
        assert canary not in text
    assert error.__cause__ is None and error.__suppress_context__


async def test_html_error_page_becomes_a_server_error(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/bad-gateway", retry_delays=()) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_workspaces()
    assert caught.value.status == 502
    assert caught.value.message == "HTTP 502 Bad Gateway"


async def test_a_huge_server_message_is_cut(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/long-error") as client:
        with pytest.raises(BadRequestError) as caught:
            await client.get_workspaces()
    assert len(caught.value.message) == MAX_MESSAGE
    assert caught.value.message.endswith("…")


async def test_headers_sent(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/shape/", token="tok-1") as client:
        with pytest.raises(UnexpectedResponseError):
            await client.get_ai_llms(workspace_id="ws 1")
    request = stand_in.requests[-1]
    assert request["path"] == "/shape/ai/llm?workspaceId=ws+1"
    assert request["headers"]["user-agent"] == USER_AGENT
    assert request["headers"]["authorization"] == "Bearer tok-1"


async def test_ids_cannot_escape_their_path_segment(stand_in) -> None:
    async with FlashbackClient(stand_in.url + "/shape", token="t") as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.get_workspace("../ai/llm")
        with pytest.raises(ValueError):
            await client.delete_ai_llm(" ")
    assert stand_in.requests[-1]["path"] == "/shape/workspace/..%2Fai%2Fllm"
    assert caught.value.request == "GET /workspace/..%2Fai%2Fllm"


def test_repr_shows_the_base_url_only(canary: str) -> None:
    client = FlashbackClient(
        "http://user:pw@127.0.0.1:8787///", token=canary, refresh_token=canary
    )
    assert repr(client) == "FlashbackClient(base_url='http://127.0.0.1:8787')"
    assert canary not in str(client) and canary not in repr(vars(client))


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:8787", "", "http://"])
def test_a_bad_base_url_is_refused_up_front(url: str) -> None:
    with pytest.raises(ValueError, match="invalid base URL"):
        FlashbackClient(url)


async def test_a_malformed_login_email_is_refused_before_sending(closed_port: int) -> None:
    async with FlashbackClient(f"http://127.0.0.1:{closed_port}") as client:
        with pytest.raises(BadRequestError) as caught:
            await client.login(" ", "pw")
    assert caught.value.message.startswith("email ")
    assert caught.value.request == "POST /user/login"


# -- proxies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "env", "expected"), [
    ("https://backend.flashback.test", {"HTTPS_PROXY": "http://proxy.test:3128"},
     "http://proxy.test:3128"),
    ("http://backend.flashback.test", {"HTTP_PROXY": "http://proxy.test:3128"},
     "http://proxy.test:3128"),
    ("https://backend.flashback.test", {"HTTP_PROXY": "http://proxy.test:3128"}, None),
    ("https://backend.flashback.test",
     {"HTTPS_PROXY": "http://proxy.test:3128", "NO_PROXY": "flashback.test"}, None),
    ("http://127.0.0.1:8787", {"HTTP_PROXY": "http://proxy.test:3128"}, None),
    ("http://localhost:8787", {"HTTP_PROXY": "http://proxy.test:3128"}, None),
    ("http://[::1]:8787", {"HTTP_PROXY": "http://proxy.test:3128"}, None),
    ("https://backend.flashback.test", {}, None),
])
def test_proxy_comes_from_the_environment_except_for_loopback(
    monkeypatch: pytest.MonkeyPatch, url: str, env: dict[str, str], expected: str | None
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url) == expected


async def test_a_remote_platform_is_reached_through_the_proxy(
    stand_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", stand_in.url)  # the stand-in plays the proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with FlashbackClient("http://backend.flashback.test", token="t") as client:
        with pytest.raises(UnexpectedResponseError):
            await client.get_workspaces()  # the stand-in's answer is not a workspace list
    assert stand_in.requests[-1]["path"] == "http://backend.flashback.test/workspace"


async def test_the_local_platform_is_reached_directly_whatever_the_proxy(
    stand_in, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")  # a dead proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with FlashbackClient(stand_in.url + "/shape", token="t") as client:
        with pytest.raises(UnexpectedResponseError):
            await client.get_workspaces()
    assert stand_in.requests[-1]["path"] == "/shape/workspace"
