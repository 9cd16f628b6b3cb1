"""The client against answers exactly as the platform's types declare them (v2).

A loopback stand-in answers canned bodies: numeric ``orgRole``, optional fields absent, an
unknown ``aiType`` and role, the sign-in, repository and refresh error shapes, a bad row in
a list. Each decodes, or raises the documented exception. Requests are checked on the wire
as the TypeScript client sends them (CSV query values, ``{id}``/``{ids}`` bodies).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.errors import (
    BadRequestError,
    NotFoundError,
    RepoRefusedError,
    SignInRefusedError,
    UnauthorizedError,
)
from flashback_tui.api.models import (
    AiType,
    ModeType,
    OrgRole,
    RepoWrite,
    Role,
    StorageType,
    ViolationFilters,
    org_role_name,
)
from flashback_tui.domain.status import ConfigState, ValidationOutcome, config_status

WS = "ws-1"
MEMBER = {"userId": "u-1", "role": "ADMIN",
          "user": {"id": "u-1", "name": "Ada", "lastName": "", "email": "ada@example.test",
                   "orgRole": 255}}


def llm(**fields: object) -> dict[str, object]:
    """An AiLlm as the hosted platform sends it: no repos, no local validation fields."""
    body: dict[str, object] = {
        "id": "c-1", "orgId": "o-1", "workspaceId": WS, "userId": "u-1", "name": "Prod",
        "aiType": "OPENAI", "endpoint": "https://api.openai.com/v1", "key": None,
        "createdAt": "2024-01-15T10:30:00.000Z",
    }
    body.update(fields)
    return body


@pytest.fixture
async def client(stand_in):
    async with FlashbackClient(stand_in.url, token="t", refresh_token="r",
                               retry_delays=()) as opened:
        yield opened


def last_query(stand_in) -> dict[str, list[str]]:
    return parse_qs(urlsplit(stand_in.requests[-1]["path"]).query)


# -- answers that decode ------------------------------------------------------------------------


async def test_numeric_org_roles_known_and_unknown_decode(stand_in, client) -> None:
    other = {**MEMBER, "userId": "u-2", "role": "OWNER",
             "user": {**MEMBER["user"], "id": "u-2", "orgRole": 7}}
    stand_in.answer("GET", "/workspace", {"success": True, "workspaces": [
        {"id": WS, "name": "Team", "orgId": "o-1", "users": [MEMBER, other], "extra": 1}]})
    workspace = (await client.get_workspaces()).workspaces[0]
    first, second = workspace.users
    assert first.user.org_role is OrgRole.OWNER and org_role_name(first.user.org_role) == "OWNER"
    assert second.user.org_role == 7 and org_role_name(second.user.org_role) == "7"
    assert workspace.role_of("u-1") is Role.ADMIN
    assert second.role == "OWNER" and workspace.role_of("u-2") is None  # a new role, kept


async def test_a_hosted_llm_list_decodes_with_optional_fields_absent(stand_in, client) -> None:
    stand_in.answer("GET", "/ai/llm", {"success": True, "aiLlms": [
        llm(), llm(id="c-2", aiType="MISTRAL", someNewField={"x": 1}),
        {"id": "c-3", "name": "broken row"},  # no workspaceId, no aiType: skipped
        llm(id="c-4", repos=[{"id": "r-1", "name": "docs",
                              "createdAt": "2024-01-15T10:30:00.000Z"}]),
    ]})
    listed = (await client.get_ai_llms(WS)).ai_llms
    assert [item.id for item in listed] == ["c-1", "c-2", "c-4"]
    assert listed[0].repos is None and listed[0].validation_status is None
    assert listed[0].api_key_id is None and listed[0].key is None
    assert listed[1].ai_type == "MISTRAL" and not isinstance(listed[1].ai_type, AiType)
    assert [repo.name for repo in listed[2].repos] == ["docs"]
    assert last_query(stand_in) == {"workspaceId": [WS]}


async def test_stats_counters_decode_from_strings_and_numbers(stand_in, client) -> None:
    big = "18446744073709551615"
    stand_in.answer("GET", "/aistats/minute", {"success": True, "data": [
        {"timestamp": 1_700_000_000_000, "repoId": "r", "aiLlmId": "c-1", "repoAiApiKeyId": "k",
         "userUuid": "", "conversationUuid": "", "tokensIn": big, "tokensOut": "2",
         "llmTokensIn": 3, "llmTokensOut": "4", "activeConversations": 1, "apiCalls": 5,
         "policyViolations": 0, "numAlerts": 0, "numBlocks": 0, "numSeverityLow": 0,
         "numSeverityMedium": 0, "numSeverityHigh": 0, "latency_ms": 12.5, "llmType": "OPENAI",
         "llmModel": "gpt", "host": "h"}]})
    point = (await client.get_ai_stats_minute()).data[0]
    assert point.tokens_in == int(big) and point.llm_tokens_in == 3 and point.latency_ms == 12.5


# -- error shapes -------------------------------------------------------------------------------


async def test_a_sign_in_refused_with_error_code_is_sign_in_refused(stand_in) -> None:
    stand_in.answer("POST", "/user/login",
                    {"success": False, "error_code": "INVALID_CREDENTIALS",
                     "message": "Wrong e-mail or password"}, status=401)
    async with FlashbackClient(stand_in.url, retry_delays=()) as client:
        with pytest.raises(SignInRefusedError) as caught:
            await client.login("ada@example.test", "nope")
    assert caught.value.error_code == "INVALID_CREDENTIALS"
    assert caught.value.message == "Wrong e-mail or password"
    assert isinstance(caught.value, UnauthorizedError)


async def test_a_login_answer_without_token_means_not_signed_in(stand_in) -> None:
    stand_in.answer("POST", "/user/login", {"success": False, "error_code": "EMAIL_NOT_VERIFIED",
                                            "verificationTokenId": "v-9"})
    async with FlashbackClient(stand_in.url, retry_delays=()) as client:
        with pytest.raises(SignInRefusedError) as caught:
            await client.user_login("ada@example.test", "pw")
        assert client.token is None
    assert caught.value.error_code == "EMAIL_NOT_VERIFIED"
    assert caught.value.verification_token_id == "v-9"


async def test_a_login_with_only_a_token_signs_in(stand_in) -> None:
    stand_in.answer("POST", "/user/login", {"success": True, "accessToken": "a-1"})
    async with FlashbackClient(stand_in.url, retry_delays=()) as client:
        answer = await client.login("ada@example.test", "pw")
        assert answer.user is None and answer.expires_at is None
        assert client.token.get_secret_value() == "a-1"


@pytest.mark.parametrize("status", [200, 401])
async def test_a_refused_refresh_is_the_same_exception_either_way(stand_in, client,
                                                                  status) -> None:
    stand_in.answer("POST", "/user/refresh", {"success": False, "error_code": "TOKEN_EXPIRED",
                                              "message": "Session expired"}, status=status)
    with pytest.raises(SignInRefusedError) as caught:
        await client.refresh()
    assert caught.value.error_code == "TOKEN_EXPIRED" and caught.value.message == "Session expired"


async def test_a_refused_refresh_after_401_surfaces_the_401(stand_in, client) -> None:
    stand_in.answer("GET", "/workspace", {"success": False, "message": "expired"}, status=401)
    stand_in.answer("POST", "/user/refresh", {"success": False})
    with pytest.raises(UnauthorizedError):
        await client.get_workspaces()
    assert client.refresh_token is None  # refused for good: not tried again


async def test_a_repo_error_shows_error_message(stand_in, client) -> None:
    body = RepoWrite(name="docs", storage_type=StorageType.S3, mode=ModeType.NORMAL,
                     workspace_id=WS)
    stand_in.answer("POST", "/repo", {"success": False, "repoId": "", "error_code":
                                      "NAME_ALREADY_USED", "error_message": "Name in use"},
                    status=400)
    with pytest.raises(BadRequestError) as caught:
        await client.create_repo(body)
    assert caught.value.message == "Name in use"
    assert caught.value.error_code == "NAME_ALREADY_USED"
    stand_in.answer("PUT", "/repo/r-1", {"success": False, "repoId": "r-1",
                                         "error_code": "QUOTA_EXCEEDED",
                                         "error_message": "Quota exceeded"})
    with pytest.raises(RepoRefusedError) as refused:
        await client.update_repo("r-1", body)
    assert refused.value.message == "Quota exceeded"


async def test_get_repo_of_an_empty_list_is_not_found(stand_in, client) -> None:
    stand_in.answer("GET", "/repo", {"success": True, "repos": []})
    with pytest.raises(NotFoundError):
        await client.get_repo("r-404")
    assert last_query(stand_in) == {"repoId": ["r-404"]}


# -- the wire as the TypeScript client sends it ------------------------------------------------


async def test_time_series_filters_are_csv_with_iso_ms_dates(stand_in, client) -> None:
    stand_in.answer("GET", "/aistats/daily", {"success": True, "data": []})
    start = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    await client.get_ai_stats_daily(start, None, ["a", "b"], hosts=["h1", "h2"],
                                    user_uuids=[], conversation_uuids=["c"])
    raw = urlsplit(stand_in.requests[-1]["path"]).query
    assert "aiLlmId=a%2Cb" in raw and "startDate=2024-01-15T10%3A30%3A00.000Z" in raw
    assert last_query(stand_in) == {"startDate": ["2024-01-15T10:30:00.000Z"],
                                    "aiLlmId": ["a,b"], "hosts": ["h1,h2"],
                                    "conversationUuid": ["c"]}
    with pytest.raises(BadRequestError):
        await client.get_ai_stats_daily(start, datetime(2024, 1, 1, tzinfo=UTC))


async def test_violation_filters_and_event_bodies(stand_in, client) -> None:
    stand_in.answer("GET", "/policy/alerts", {"success": True, "alerts": [], "total": 0,
                                              "skip": 0, "take": 50})
    await client.get_policy_alerts(ViolationFilters(host=["a", "b"], severity=["HIGH"],
                                                    block=True, take=0))
    assert last_query(stand_in) == {"host": ["a,b"], "take": ["0"]}  # no severity/block
    await client.mark_system_event_as_read([1, 2])
    assert json.loads(stand_in.requests[-1]["body"]) == {"ids": [1, 2]}
    await client.mark_system_event_as_unread(3)
    sent = stand_in.requests[-1]
    assert sent["method"] == "DELETE" and json.loads(sent["body"]) == {"id": 3}


async def test_validate_sends_no_body(stand_in, client) -> None:
    stand_in.answer("POST", "/ai/llm/c-1/validate", {"success": False, "message": "401"})
    answer = await client.validate_ai_llm("c-1")
    assert answer.success is False
    sent = stand_in.requests[-1]
    assert sent["body"] == b"" and "content-type" not in sent["headers"]


# -- the status rule on hosted shapes -----------------------------------------------------------


async def test_status_without_validation_fields(stand_in, client) -> None:
    stand_in.answer("GET", "/ai/llm", {"success": True, "aiLlms": [llm(), llm(id="c-2")]})
    first, second = (await client.get_ai_llms()).ai_llms
    assert config_status(first).state is ConfigState.UNKNOWN
    assert config_status(first, available={"c-1"}).state is ConfigState.VALID
    verdict = ValidationOutcome("c-2", False, "Validation failed: 401")
    assert config_status(second, outcome=verdict, available={"c-2"}).state is ConfigState.INVALID
    failed = ValidationOutcome("c-2", False, "unreachable", request_failed=True)
    found = config_status(second, outcome=failed)
    assert found.state is ConfigState.UNKNOWN and found.request_failed == "unreachable"
