"""The local platform's HTTP surface with raw requests: shapes, statuses and bad bodies.

The typed client's own tests cover each endpoint's happy path and the full access matrix;
these check what only raw HTTP can: malformed and mistyped bodies, the error shape of every
failure, the OpenAPI document, and that a refused request stores nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType
from flashback_tui.server import admin
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import usage as usage_store


@pytest.fixture
def http(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_body(world: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": f"cfg-{uuid.uuid4().hex[:8]}", "aiType": "OPENAI",
            "secret": "sk-http-secret", "workspaceId": world.workspace_id}
    body.update(fields)
    return body


def names_in(http: httpx.Client, world: Any) -> list[str]:
    answer = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=auth(world.tokens["ADMIN"]))
    assert answer.status_code == 200
    return [llm["name"] for llm in answer.json()["aiLlms"]]


def assert_error(answer: httpx.Response, status: int, *fragments: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False
    assert set(body) == {"success", "message"}
    for fragment in fragments:
        assert fragment in body["message"]


# -- bad bodies: 400 naming the field, and nothing stored ------------------------------------

BAD_CREATE_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "missing name": ({"name": None}, "name"),
    "null aiType": ({"aiType": None}, "aiType"),
    "unknown aiType": ({"aiType": "MISTRAL"}, "aiType: must be one of"),
    "lowercase aiType": ({"aiType": "openai"}, "aiType"),
    "ftp endpoint": ({"endpoint": "ftp://files.example.test/v1"}, "endpoint"),
    "not a URL": ({"endpoint": "just words"}, "endpoint"),
    "URL without host": ({"endpoint": "https:///v1"}, "endpoint"),
    "OTHER without endpoint": ({"aiType": "OTHER"}, "endpoint: required"),
    "100 kB name": ({"name": "n" * 100_000}, "name"),
    "empty name": ({"name": "   "}, "name"),
    "name is a number": ({"name": 5}, "name"),
    "secret is a list": ({"secret": ["a"]}, "secret"),
    "endpoint is an object": ({"endpoint": {"url": "https://x.test"}}, "endpoint"),
    "workspaceId is a number": ({"workspaceId": 7}, "workspaceId"),
    "missing workspaceId": ({"workspaceId": None}, "workspaceId"),
}


@pytest.mark.parametrize("case", list(BAD_CREATE_BODIES))
def test_bad_create_bodies_are_400_and_store_nothing(
    case: str, http: httpx.Client, world: Any
) -> None:
    changes, expected = BAD_CREATE_BODIES[case]
    body = create_body(world)
    for field, value in changes.items():
        if value is None:
            body.pop(field)
        else:
            body[field] = value
    answer = http.post("/ai/llm", json=body, headers=auth(world.tokens["WRITE"]))
    assert_error(answer, 400, expected)
    assert names_in(http, world) == []


def test_explicit_nulls_are_400(http: httpx.Client, world: Any) -> None:
    for field in ("name", "aiType", "workspaceId"):
        answer = http.post("/ai/llm", json=create_body(world, **{field: None}),
                           headers=auth(world.tokens["WRITE"]))
        assert_error(answer, 400, field)
    assert names_in(http, world) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "body: malformed JSON"),
        (b"", "body"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b'"a string"', "body"),
        (b"null", "body"),
    ],
)
def test_malformed_json_is_400(content: bytes, expected: str, http: httpx.Client,
                               world: Any) -> None:
    answer = http.post("/ai/llm", content=content, headers={
        **auth(world.tokens["WRITE"]), "Content-Type": "application/json"})
    assert_error(answer, 400, expected)


def test_an_oversized_body_is_refused_before_parsing(http: httpx.Client, world: Any) -> None:
    answer = http.post("/ai/llm", json=create_body(world, secret="s" * 2_000_000),
                       headers=auth(world.tokens["WRITE"]))
    assert_error(answer, 400, "body: larger than")
    assert names_in(http, world) == []


def test_an_oversized_chunked_body_is_refused_too(http: httpx.Client, world: Any) -> None:
    body = json.dumps(create_body(world, secret="s" * 2_000_000)).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    answer = http.post("/ai/llm", content=chunks(), headers={
        **auth(world.tokens["WRITE"]), "Content-Type": "application/json"})
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert_error(answer, 400, "body: larger than")
    assert names_in(http, world) == []


def test_a_duplicate_name_in_a_workspace_is_400(http: httpx.Client, world: Any,
                                                platform: Any) -> None:
    body = create_body(world, name="Production OpenAI")
    assert http.post("/ai/llm", json=body, headers=auth(world.tokens["WRITE"])).status_code == 200
    again = http.post("/ai/llm", json=body, headers=auth(world.tokens["ADMIN"]))
    assert_error(again, 400, "name", "already exists")
    assert names_in(http, world) == ["Production OpenAI"]
    # The same name in another workspace is fine.
    other = admin.add_workspace(platform.data_dir, f"other-{uuid.uuid4().hex[:6]}")
    admin.add_member(platform.data_dir, other, world.emails["WRITE"], "WRITE")
    elsewhere = http.post("/ai/llm", json={**body, "workspaceId": other},
                          headers=auth(world.tokens["WRITE"]))
    assert elsewhere.status_code == 200


BAD_UPDATE_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "null name": ({"name": None}, "name: must not be null"),
    "null secret": ({"secret": None}, "secret"),
    "null apiKeyUuid": ({"apiKeyUuid": None}, "apiKeyUuid: must not be null"),
    "ftp endpoint": ({"endpoint": "ftp://x.test"}, "endpoint"),
    "unknown aiType": ({"aiType": "NOPE"}, "aiType"),
    "name too long": ({"name": "x" * 100_000}, "name"),
    "secret is a number": ({"secret": 12345}, "secret"),
}


@pytest.mark.parametrize("case", list(BAD_UPDATE_BODIES))
def test_bad_update_bodies_are_400_and_change_nothing(
    case: str, http: httpx.Client, world: Any
) -> None:
    headers = auth(world.tokens["WRITE"])
    created = http.post("/ai/llm", json=create_body(world, name="keep-me"), headers=headers)
    llm_id = created.json()["aiLlmId"]
    body, expected = BAD_UPDATE_BODIES[case]
    assert_error(http.put(f"/ai/llm/{llm_id}", json=body, headers=headers), 400, expected)
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=headers).json()["aiLlms"]
    assert (llm["name"], llm["aiType"], llm["endpoint"]) == (
        "keep-me", "OPENAI", DEFAULT_ENDPOINTS[AiType.OPENAI])


def test_renaming_onto_an_existing_name_is_400(http: httpx.Client, world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    http.post("/ai/llm", json=create_body(world, name="first"), headers=headers)
    second = http.post("/ai/llm", json=create_body(world, name="second"), headers=headers)
    answer = http.put(f"/ai/llm/{second.json()['aiLlmId']}", json={"name": "first"},
                      headers=headers)
    assert_error(answer, 400, "name", "already exists")
    assert sorted(names_in(http, world)) == ["first", "second"]


def test_query_parameters_are_checked(http: httpx.Client, world: Any) -> None:
    headers = auth(world.tokens["READ"])
    assert_error(http.get("/ai/llm", params={"workspaceId": "w" * 500}, headers=headers), 400,
                 "workspaceId")
    assert_error(http.get("/aistats/minute", params={"startDate": "yesterday"}, headers=headers),
                 400, "startDate")
    assert_error(http.get("/aistats/daily", params={
        "startDate": "2025-02-01T00:00:00Z", "endDate": "2025-01-01T00:00:00Z"},
        headers=headers), 400, "startDate")


# -- defaults --------------------------------------------------------------------------------


@pytest.mark.parametrize("ai_type", [t for t in AiType if DEFAULT_ENDPOINTS[t]])
def test_an_omitted_endpoint_gets_the_type_default(ai_type: AiType, http: httpx.Client,
                                                   world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    answer = http.post("/ai/llm", json=create_body(world, aiType=ai_type.value),
                       headers=headers)
    assert answer.status_code == 200
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=headers).json()["aiLlms"]
    assert llm["endpoint"] == DEFAULT_ENDPOINTS[ai_type]
    assert llm["validationStatus"] == "NOT_VALIDATED"


def test_endpoint_is_normalised_and_key_masked(http: httpx.Client, world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    http.post("/ai/llm", json=create_body(world, aiType="OTHER",
                                          endpoint="  http://10.0.0.5:8000/v1/  ",
                                          key="AKIAABCDEFGHIJKLWXYZ"), headers=headers)
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=headers).json()["aiLlms"]
    assert llm["endpoint"] == "http://10.0.0.5:8000/v1"
    assert llm["key"] == "****WXYZ"
    assert "secret" not in llm


# -- error shapes for auth, unknown ids and routes --------------------------------------------


def test_missing_invalid_and_expired_tokens_are_401(http: httpx.Client, platform: Any,
                                                    world: Any) -> None:
    assert_error(http.get("/ai/llm"), 401, "missing")
    assert_error(http.get("/ai/llm", headers=auth("fba_not-issued")), 401, "invalid")
    assert_error(http.get("/ai/llm", headers={"Authorization": "Basic abc"}), 401)
    expired = admin.create_token(platform.data_dir, world.emails["READ"], ttl_seconds=-1)
    answer = http.get("/workspace", headers=auth(expired))
    assert_error(answer, 401, "expired")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_unknown_ids_routes_and_methods_keep_the_error_shape(http: httpx.Client,
                                                             world: Any) -> None:
    headers = auth(world.tokens["ADMIN"])
    unknown = str(uuid.uuid4())
    assert_error(http.put(f"/ai/llm/{unknown}", json={"name": "x"}, headers=headers), 404)
    assert_error(http.delete(f"/ai/llm/{unknown}", headers=headers), 404)
    assert_error(http.post(f"/ai/llm/{unknown}/validate", headers=headers), 404)
    assert_error(http.get("/ai/llm/stats", params={"aiLlmId": unknown}, headers=headers), 404)
    assert_error(http.get(f"/workspace/{unknown}", headers=headers), 404)
    assert_error(http.get("/no/such/route", headers=headers), 404)
    assert_error(http.patch("/ai/llm", headers=headers), 405)


def test_read_members_cannot_write_and_outsiders_see_nothing(http: httpx.Client,
                                                              world: Any) -> None:
    created = http.post("/ai/llm", json=create_body(world), headers=auth(world.tokens["WRITE"]))
    llm_id = created.json()["aiLlmId"]
    reader, outsider = auth(world.tokens["READ"]), auth(world.tokens["NONE"])
    assert_error(http.post("/ai/llm", json=create_body(world), headers=reader), 403, "READ")
    assert_error(http.put(f"/ai/llm/{llm_id}", json={"name": "y"}, headers=reader), 403)
    assert_error(http.delete(f"/ai/llm/{llm_id}", headers=reader), 403)
    assert_error(http.post("/ai/llm", json=create_body(world), headers=outsider), 404)
    assert_error(http.put(f"/ai/llm/{llm_id}", json={"name": "y"}, headers=outsider), 404)
    assert_error(http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                          headers=outsider), 404)
    assert http.get("/ai/llm", headers=outsider).json() == {"success": True, "aiLlms": []}


def test_deleting_a_configuration_in_use_is_403(http: httpx.Client, platform: Any,
                                                world: Any) -> None:
    headers = auth(world.tokens["ADMIN"])
    llm_id = http.post("/ai/llm", json=create_body(world), headers=headers).json()["aiLlmId"]
    repo_id = admin.add_repo(platform.data_dir, "docs-bot", world.workspace_name, llm_id)
    assert_error(http.delete(f"/ai/llm/{llm_id}", headers=headers), 403,
                 "used by the repository 'docs-bot'")
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=headers).json()["aiLlms"]
    assert [(r["id"], r["name"]) for r in llm["repos"]] == [(repo_id, "docs-bot")]
    with PlatformState.open(platform.data_dir) as state:
        state.db.conn().execute("DELETE FROM repo_ai_llms WHERE repo_id = ?", (repo_id,))
    assert http.delete(f"/ai/llm/{llm_id}", headers=headers).json()["success"] is True
    assert names_in(http, world) == []


def test_lists_follow_changes_made_outside_the_api(http: httpx.Client, platform: Any,
                                                   world: Any) -> None:
    """Answers may be cached, but never outlive a change, whoever made it."""
    headers = auth(world.tokens["READ"])
    created = http.post("/ai/llm", json=create_body(world), headers=auth(world.tokens["WRITE"]))
    llm_id = created.json()["aiLlmId"]

    def listed() -> dict[str, Any]:
        answer = http.get("/ai/llm", params={"workspaceId": world.workspace_id}, headers=headers)
        (llm,) = answer.json()["aiLlms"]
        return llm

    def available() -> list[str]:
        answer = http.get("/ai/llm/available", headers=headers)
        return [llm["id"] for llm in answer.json()["aiLlms"]]

    assert listed()["repos"] == [] and available() == []
    assert listed()["repos"] == []  # asked twice: same answer
    admin.add_repo(platform.data_dir, "late-repo", world.workspace_id, llm_id)
    assert [r["name"] for r in listed()["repos"]] == ["late-repo"]

    with PlatformState.open(platform.data_dir) as state:
        generation = llm_store.ai_llm_row(state.db.conn(), llm_id)["generation"]
        llm_store.record_validation(state.db.conn(), llm_id, generation, True, "Validated: test")
    assert listed()["validationStatus"] == "VALID" and available() == [llm_id]

    stats = http.get("/ai/llm/stats", params={"aiLlmId": llm_id}, headers=headers)
    assert stats.json()["stats"][0]["totalApiCalls"] == "0"
    with PlatformState.open(platform.data_dir) as state:
        usage_store.record_usage(state.db.conn(), llm_id, api_calls=4)
    stats = http.get("/ai/llm/stats", params={"aiLlmId": llm_id}, headers=headers)
    assert stats.json()["stats"][0]["totalApiCalls"] == "4"

    with PlatformState.open(platform.data_dir) as state:
        state.db.conn().execute("DELETE FROM memberships WHERE user_id = ?",
                                (world.user_ids["READ"],))
    assert http.get("/ai/llm", headers=headers).json()["aiLlms"] == []
    assert available() == []


@pytest.mark.parametrize("path", ["/ai/llm", "/ai/llm/available", "/ai/llm/stats"])
def test_cached_answers_carry_an_etag_and_a_matching_one_gets_304(
    path: str, http: httpx.Client, platform: Any, world: Any
) -> None:
    headers = auth(world.tokens["WRITE"])
    first = http.get(path, headers=headers)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')

    for held in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(path, headers={**headers, "If-None-Match": held})
        assert again.status_code == 304, held
        assert again.content == b"" and again.headers["etag"] == etag
    assert http.get(path, headers={**headers, "If-None-Match": '"other"'}).content == first.content

    created = http.post("/ai/llm", json=create_body(world), headers=headers).json()["aiLlmId"]
    with PlatformState.open(platform.data_dir) as state:  # counts for stats, and availability
        generation = llm_store.ai_llm_row(state.db.conn(), created)["generation"]
        llm_store.record_validation(state.db.conn(), created, generation, True, "Validated: test")
        usage_store.record_usage(state.db.conn(), created, api_calls=1)
    changed = http.get(path, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert created in changed.text


def test_an_unreadable_secret_is_a_generic_500_and_a_new_secret_repairs_it(
    http: httpx.Client, platform: Any, world: Any
) -> None:
    headers = auth(world.tokens["WRITE"])
    llm_id = http.post("/ai/llm", json=create_body(world, endpoint="http://127.0.0.1:9/v1"),
                       headers=headers).json()["aiLlmId"]
    with PlatformState.open(platform.data_dir) as state:
        state.db.conn().execute(
            "UPDATE ai_llms SET secret_blob = ? WHERE id = ?", (bytes(40), llm_id))
    log_size = (platform.data_dir / "server.log").stat().st_size

    broken = http.post(f"/ai/llm/{llm_id}/validate", headers=headers)
    assert_error(broken, 500, "cannot be decrypted")
    logged = (platform.data_dir / "server.log").read_bytes()[log_size:].decode()
    assert "cannot open a sealed secret on POST" in logged
    assert "Traceback" not in logged

    repaired = http.put(f"/ai/llm/{llm_id}", json={"secret": "sk-fresh"}, headers=headers)
    assert repaired.status_code == 200
    answer = http.post(f"/ai/llm/{llm_id}/validate", headers=headers)
    assert answer.status_code == 200 and answer.json()["success"] is False  # port 9: closed


# -- workspaces, sign-in, usage --------------------------------------------------------------


def test_workspaces_list_members_with_roles(http: httpx.Client, world: Any) -> None:
    answer = http.get(f"/workspace/{world.workspace_id}", headers=auth(world.tokens["READ"]))
    workspace = answer.json()["workspace"]
    assert workspace["name"] == world.workspace_name
    roles = {m["user"]["email"]: m["role"] for m in workspace["users"]}
    assert roles == {world.emails[r]: r for r in ("READ", "WRITE", "ADMIN")}
    listed = http.get("/workspace", headers=auth(world.tokens["WRITE"])).json()["workspaces"]
    assert [w["id"] for w in listed] == [world.workspace_id]
    assert http.get("/workspace", headers=auth(world.tokens["NONE"])).json() == {
        "success": True, "workspaces": []}
    assert_error(http.get(f"/workspace/{world.workspace_id}", headers=auth(world.tokens["NONE"])),
                 404)


def assert_sign_in_error(answer: httpx.Response, code: str, *fragments: str) -> None:
    """A refused sign-in call: 401 and ``{success: false, error_code, message}``."""
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert set(body) == {"success", "error_code", "message"}
    assert body["success"] is False and body["error_code"] == code
    for fragment in fragments:
        assert fragment in body["message"]


def test_login_refresh_and_logout(http: httpx.Client, platform: Any) -> None:
    email = f"login-{uuid.uuid4().hex[:6]}@example.test"
    user_id = admin.add_user(platform.data_dir, email, password="pass phrase 1")
    assert_sign_in_error(http.post("/user/login", json={"email": email, "password": "wrong"}),
                         "INVALID_CREDENTIALS")
    assert_sign_in_error(http.post("/user/login", json={"email": "nobody@example.test",
                                                        "password": "x"}),
                         "INVALID_CREDENTIALS", "invalid email")
    assert_error(http.post("/user/login", json={"email": email}), 400, "password")

    login = http.post("/user/login", json={"email": email.upper(), "password": "pass phrase 1"})
    assert login.status_code == 200
    signed_in = login.json()
    assert set(signed_in) == {"success", "accessToken", "refreshToken", "tokenId", "expiresAt",
                              "user"}
    assert signed_in["user"] == {"id": user_id, "email": email, "name": "",
                                 "orgId": signed_in["user"]["orgId"], "orgRole": 0}
    assert str(uuid.UUID(signed_in["tokenId"])) == signed_in["tokenId"]
    assert signed_in["expiresAt"] > 1_000_000_000_000  # Unix milliseconds
    assert http.get("/workspace", headers=auth(signed_in["accessToken"])).status_code == 200

    refreshed = http.post("/user/refresh", json={"refresh_token": signed_in["refreshToken"]})
    assert refreshed.status_code == 200
    tokens = refreshed.json()
    assert set(tokens) == {"success", "token", "accessToken", "refreshToken", "expiresAt"}
    assert tokens["token"] == tokens["accessToken"] != signed_in["accessToken"]
    assert tokens["refreshToken"] != signed_in["refreshToken"]
    # The old refresh token was rotated out.
    assert_sign_in_error(http.post("/user/refresh",
                                   json={"refresh_token": signed_in["refreshToken"]}),
                         "INVALID_REFRESH_TOKEN")

    out = http.post("/user/logout", json={"refresh_token": tokens["refreshToken"]},
                    headers=auth(tokens["accessToken"]))
    assert out.status_code == 200 and out.json()["success"] is True
    assert_error(http.get("/workspace", headers=auth(tokens["accessToken"])), 401)
    assert_sign_in_error(http.post("/user/refresh", json={"refresh_token": tokens["refreshToken"]}),
                         "INVALID_REFRESH_TOKEN")
    # Nothing left to sign out of.
    assert_sign_in_error(http.post("/user/logout", json={"refresh_token": tokens["refreshToken"]},
                                   headers=auth(tokens["accessToken"])), "INVALID_TOKEN")


def test_logout_with_an_expired_access_token_still_ends_the_session(http: httpx.Client,
                                                                    platform: Any) -> None:
    email = f"logout-{uuid.uuid4().hex[:6]}@example.test"
    admin.add_user(platform.data_dir, email, password="pass phrase 2")
    signed_in = http.post("/user/login", json={"email": email, "password": "pass phrase 2"}
                          ).json()
    out = http.post("/user/logout", json={"refresh_token": signed_in["refreshToken"]},
                    headers=auth("fba_not-a-live-token"))
    assert out.status_code == 200 and out.json()["success"] is True
    assert_sign_in_error(http.post("/user/refresh",
                                   json={"refresh_token": signed_in["refreshToken"]}),
                         "INVALID_REFRESH_TOKEN")


def test_the_local_admin_cannot_sign_in_with_a_password(http: httpx.Client) -> None:
    for password in ("", "admin", "password"):
        answer = http.post("/user/login", json={"email": store_base.LOCAL_ADMIN_EMAIL,
                                                "password": password})
        assert_sign_in_error(answer, "INVALID_CREDENTIALS")


def test_usage_series_and_totals(http: httpx.Client, platform: Any, world: Any) -> None:
    headers = auth(world.tokens["READ"])
    llm_id = http.post("/ai/llm", json=create_body(world),
                       headers=auth(world.tokens["WRITE"])).json()["aiLlmId"]
    at = 1_750_000_000_000
    with PlatformState.open(platform.data_dir) as state:
        usage_store.record_usage(state.db.conn(), llm_id, at_ms=at, api_calls=2, tokens_in=7,
                           tokens_out=9, num_blocks=1, latency_ms=40.0, host="127.0.0.1")
    params = {"startDate": "2025-06-15T00:00:00Z", "endDate": "2025-06-16T00:00:00Z",
              "aiLlmId": llm_id}
    (point,) = http.get("/aistats/minute", params=params, headers=headers).json()["data"]
    assert point["timestamp"] == at // 60_000 * 60_000
    assert (point["aiLlmId"], point["apiCalls"], point["tokensIn"], point["latency_ms"]) == (
        llm_id, 2, "7", 20.0)
    (day,) = http.get("/aistats/daily", params=params, headers=headers).json()["data"]
    assert day["timestamp"] == at // 86_400_000 * 86_400_000 and day["numBlocks"] == 1

    (stats,) = http.get("/ai/llm/stats", params={"aiLlmId": llm_id},
                        headers=headers).json()["stats"]
    assert stats["totalApiCalls"] == "2" and stats["totalTokensOut"] == "9"
    assert stats["totalBlocks"] == "1" and stats["totalAlerts"] == "0"
    assert_error(http.get("/aistats/minute", params=params, headers=auth(world.tokens["NONE"])),
                 404)


def test_openapi_describes_the_real_schemas(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    for name in ("AiLlm", "AiLlmCreate", "AiLlmUpdate", "AiLlmListResponse", "ValidateResponse",
                 "StatsResponse", "WorkspaceListResponse", "LoginResponse", "ErrorResponse"):
        assert name in components, name
    assert "aiType" in components["AiLlmCreate"]["properties"]
    assert "secret" not in components["AiLlm"]["properties"]
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/ai/llm"])
    assert {"put", "delete"} <= set(paths["/ai/llm/{ai_llm_id}"])
    for path in paths.values():
        for operation in path.values():
            assert "422" not in operation["responses"]
    create = paths["/ai/llm"]["post"]["responses"]
    assert create["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AiLlmIdResponse")
    assert create["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse")


def test_a_change_during_validation_keeps_the_outcome_out(http: httpx.Client,
                                                          world: Any) -> None:
    """The probe runs without holding the database; its outcome is dropped if the
    configuration changed meanwhile, so a stale outcome never describes the new values."""
    import threading
    import time

    from tests.support.fake_provider import FakeProvider

    headers = auth(world.tokens["WRITE"])
    with FakeProvider(valid_keys={"sk-right"}) as provider:
        llm_id = http.post("/ai/llm", json=create_body(
            world, endpoint=provider.endpoint("hang"), secret="sk-right"),
            headers=headers).json()["aiLlmId"]
        outcome: dict[str, Any] = {}

        def validate() -> None:
            with httpx.Client(base_url=http.base_url, timeout=30) as other:
                outcome.update(other.post(f"/ai/llm/{llm_id}/validate", headers=headers).json())

        worker = threading.Thread(target=validate)
        worker.start()
        deadline = time.monotonic() + 10
        while not provider.requests_for("hang") and time.monotonic() < deadline:
            time.sleep(0.01)  # until the probe has reached the provider
        assert provider.requests_for("hang"), "the probe never reached the provider"
        changed = http.put(f"/ai/llm/{llm_id}", json={"secret": "sk-changed"}, headers=headers)
        assert changed.status_code == 200
        worker.join(30)

    assert outcome["success"] is False  # the held request timed out
    assert outcome["message"].endswith(
        "(not recorded: the configuration changed during validation)")
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=headers).json()["aiLlms"]
    assert llm["validationStatus"] == "NOT_VALIDATED"  # not INVALID: the outcome was dropped
    assert "validationMessage" not in llm  # optional means absent


# -- v2 update semantics, shapes and the audit trail ------------------------------------------


def listed_one(http: httpx.Client, world: Any) -> dict[str, Any]:
    (llm,) = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                      headers=auth(world.tokens["READ"])).json()["aiLlms"]
    return llm


def test_nulls_in_an_update(http: httpx.Client, world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    llm_id = http.post("/ai/llm", json=create_body(
        world, endpoint="https://api.openai.com/v2", key="AKIAABCDEFGHIJKLWXYZ"),
        headers=headers).json()["aiLlmId"]
    assert listed_one(http, world)["key"] == "****WXYZ"

    assert http.put(f"/ai/llm/{llm_id}", json={"endpoint": None, "key": None},
                    headers=headers).status_code == 200
    llm = listed_one(http, world)
    assert llm["endpoint"] == DEFAULT_ENDPOINTS[AiType.OPENAI]
    assert "key" in llm and llm["key"] is None  # T | null: present as null
    assert_error(http.put(f"/ai/llm/{llm_id}", json={"secret": None}, headers=headers), 400,
                 "secret")

    other = http.post("/ai/llm", json=create_body(world, aiType="OTHER",
                                                  endpoint="http://10.0.0.5:8000/v1"),
                      headers=headers).json()["aiLlmId"]
    assert_error(http.put(f"/ai/llm/{other}", json={"endpoint": None}, headers=headers), 400,
                 "endpoint")


def test_optional_fields_are_absent_and_repos_always_listed(http: httpx.Client,
                                                            world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    http.post("/ai/llm", json=create_body(world), headers=headers)
    llm = listed_one(http, world)
    assert "apiKeyId" not in llm and llm["repos"] == [] and "secret" not in llm
    assert "validationMessage" not in llm and "validatedAt" not in llm
    http.post("/ai/llm", json=create_body(world, apiKeyUuid="stored-key-1"), headers=headers)
    llms = http.get("/ai/llm", params={"workspaceId": world.workspace_id},
                    headers=headers).json()["aiLlms"]
    assert [llm.get("apiKeyId") for llm in llms] == ["stored-key-1", None]


def test_names_are_unique_in_a_workspace_whatever_the_case(http: httpx.Client,
                                                           world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    http.post("/ai/llm", json=create_body(world, name="Prod"), headers=headers)
    assert_error(http.post("/ai/llm", json=create_body(world, name="PROD"), headers=headers),
                 400, "name")
    other = http.post("/ai/llm", json=create_body(world, name="other"),
                      headers=headers).json()["aiLlmId"]
    assert_error(http.put(f"/ai/llm/{other}", json={"name": "prod"}, headers=headers), 400,
                 "name")
    assert http.put(f"/ai/llm/{other}", json={"name": "Other"}, headers=headers
                    ).status_code == 200  # its own name in another case is fine


@pytest.mark.parametrize("change", [
    {"endpoint": "https://api.openai.com/v2"}, {"key": "AKIA-new-key-1234"},
    {"secret": "sk-rotated"}, {"aiType": "OTHER", "endpoint": "https://x.test/v1",
                               "secret": "sk-other"},
])
def test_a_credential_change_makes_it_unvalidated(change: dict[str, Any], http: httpx.Client,
                                                  platform: Any, world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    llm_id = http.post("/ai/llm", json=create_body(world), headers=headers).json()["aiLlmId"]
    with PlatformState.open(platform.data_dir) as state:
        llm_store.record_validation(state.db.conn(), llm_id, 1, True, "Validated: test")
    assert listed_one(http, world)["validationStatus"] == "VALID"
    answer = http.put(f"/ai/llm/{llm_id}", json=change, headers=headers)
    assert answer.status_code == 200, answer.text
    assert "validate it again" in answer.json()["message"]
    assert listed_one(http, world)["validationStatus"] == "NOT_VALIDATED"


def test_every_change_is_one_event_naming_the_fields(http: httpx.Client, platform: Any,
                                                     world: Any) -> None:
    headers = auth(world.tokens["WRITE"])
    llm_id = http.post("/ai/llm", json=create_body(world), headers=headers).json()["aiLlmId"]
    http.put(f"/ai/llm/{llm_id}", json={"name": "renamed", "secret": "sk-new-secret",
                                        "endpoint": "https://api.openai.com/v2"},
             headers=headers)
    http.delete(f"/ai/llm/{llm_id}", headers=headers)
    with PlatformState.open(platform.data_dir) as state:
        rows = state.db.conn().execute(
            "SELECT event, user_id, workspace_id, json_data FROM system_events"
            " WHERE context = 11 AND context_id = ? ORDER BY id", (llm_id,)).fetchall()
    assert [r["event"] for r in rows] == [0, 1, 2]
    assert {r["user_id"] for r in rows} == {world.user_ids["WRITE"]}
    assert {r["workspace_id"] for r in rows} == {world.workspace_id}
    assert json.loads(rows[1]["json_data"]) == {"changed": ["endpoint", "name", "secret"]}
    assert all("sk-new-secret" not in (r["json_data"] or "") for r in rows)


def test_healthz_answers_without_a_token(http: httpx.Client) -> None:
    answer = http.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "database": "ok"}
