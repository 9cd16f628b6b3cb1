"""Generated requests against the real server: no server errors, no answers the schema denies.

One run per session of this module: the local platform on a fresh data dir, seeded through
its own HTTP API (a workspace with a configuration on the loopback provider stand-in, a
repository linking it, a repository AI key, a second member and, when the server can make
one, a policy; and, apart, the repository whose AI key is the bearer of the gateway
operations), then a Schemathesis stateless run over every operation of its ``/openapi.json``
with a fixed seed and a fixed number of cases per operation (see ``BUDGET``): over a thousand
requests, in well under two minutes on one core. The server may only connect to loopback
(``FLASHBACK_ENDPOINT_DENY`` / ``ALLOW``), so nothing generated reaches the network.

Run it alone with ``pytest -m fuzz -s`` (``-s`` prints the table per operation and the grouped
failures, including the valid data the server refused, which no test asserts on). The tests
then read the one report: whether every JSON answer has a schema, the run's size, requests
without an answer, server errors, answers that contradict the schema, and invalid data that
was accepted.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from tests.fuzz.findings import ACCEPTED, CONTRADICTION, SERVER_ERROR, TRANSPORT, Report
from tests.fuzz.stateless import Budget, run_stateless
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider

pytestmark = pytest.mark.fuzz

BUDGET = Budget(positive=20, negative=10, seed=13, request_timeout=10.0)
MIN_REQUESTS = 1000
ADMIN_EMAIL = "admin@localhost"
#: Common top-level domains, denied by name so that a generated endpoint is refused before
#: its name is even resolved.
NAMES_DENIED = ",".join(f"*.{tld}" for tld in (
    "com", "net", "org", "io", "ai", "dev", "app", "cloud", "tech", "co", "example", "test"))
#: Loopback only: every other address is refused before a connection is made.
LOOPBACK_ONLY = {
    "FLASHBACK_ENDPOINT_DENY": f"0.0.0.0/0,::/0,{NAMES_DENIED}",
    "FLASHBACK_ENDPOINT_ALLOW": "127.0.0.0/8,::1",
    "FLASHBACK_PROBE_TIMEOUT": "2",
    "NO_PROXY": "*",
    "no_proxy": "*",
}
#: Written into the document only if the server documents no body for the gateway's chat
#: call, so that its cases carry one (the issue asks for the gateway to be fuzzed too).
CHAT_REQUEST = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string"},
        "messages": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "required": ["role", "content"],
            "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}},
        "stream": {"type": "boolean"},
        "max_tokens": {"type": "integer", "minimum": 1},
    },
}


@dataclass
class Seeded:
    """The records the run points real ids at, and the gateway's bearer."""

    data_dir: Path
    admin_token: str
    gateway_secret: str
    ids: dict[str, str]
    notes: list[str]


def _call(api: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = api.request(method, path, **kwargs)
    assert response.status_code == 200, (method, path, response.status_code, response.text)
    return response.json()


def _linked(api: httpx.Client, workspace_id: str, endpoint: str, tag: str) -> dict[str, str]:
    """A validated configuration on ``endpoint``, a repository linking it, and an AI key."""
    llm_id = _call(api, "POST", "/ai/llm", json={
        "name": f"{tag}-config", "aiType": "OPENAI", "endpoint": endpoint,
        "secret": DEFAULT_VALID_KEY, "workspaceId": workspace_id})["aiLlmId"]
    _call(api, "POST", f"/ai/llm/{llm_id}/validate")
    repo_id = _call(api, "POST", "/repo", json={
        "name": f"{tag}-repo", "workspaceId": workspace_id, "storageType": "S3",
        "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm_id}]})["repoId"]
    key = _call(api, "POST", f"/repo/{repo_id}/ai/apikey", json={"name": tag, "aiType": "OPENAI"})
    return {"ai_llm_id": llm_id, "repo_id": repo_id, "key_id": key["id"],
            "secret": key["secret"]}


def seed(server: LocalServer, provider: FakeProvider, data_dir: Path) -> Seeded:
    """Create, through the HTTP API, everything real ids in the run point at."""
    token = server.admin_token.get_secret_value()
    notes: list[str] = []
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as api:
        profile = _call(api, "GET", "/user/profile")["data"]
        gateway_ws = _call(api, "POST", "/workspace", json={"name": "fuzz-gateway"})
        gateway = _linked(api, gateway_ws["workspace"]["id"], provider.endpoint("ok"), "gateway")
        workspace_id = _call(api, "POST", "/workspace", json={"name": "fuzz-target"})[
            "workspace"]["id"]
        target = _linked(api, workspace_id, provider.endpoint("ok"), "target")
        member_id = admin.add_user(data_dir, "member@example.test", name="Member")
        _call(api, "POST", f"/workspace/{workspace_id}/users",
              json={"userId": member_id, "role": "READ"})
        ids = {
            "workspace_id": workspace_id, "workspaceId": workspace_id,
            "ai_llm_id": target["ai_llm_id"], "aiLlmId": target["ai_llm_id"],
            "repo_id": target["repo_id"], "repoId": target["repo_id"],
            "key_id": target["key_id"], "repoAiApiKeyId": target["key_id"],
            "user_id": member_id, "userId": member_id, "orgId": profile["orgId"],
        }
        policy = api.post("/policy", json={
            "name": "fuzz-policy", "content": "password, api key", "riskType": "HIGH",
            "actionType": 0, "workspaceId": workspace_id, "orgId": profile["orgId"]})
        if policy.status_code == 200:
            answer = policy.json()
            ids["policy_id"] = answer.get("policyId") or answer.get("policy", {}).get("id")
        else:
            notes.append(f"no policy seeded: POST /policy -> {policy.status_code} "
                         f"{policy.text[:200]}")
    return Seeded(data_dir, token, gateway["secret"], ids, notes)


def with_gateway_bodies(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The document, with a chat request body where the gateway documents none."""
    document = copy.deepcopy(document)
    notes = []
    chat = document.get("paths", {}).get("/v1/chat/completions", {}).get("post")
    if chat is not None and "requestBody" not in chat:
        chat["requestBody"] = {"required": True,
                               "content": {"application/json": {"schema": CHAT_REQUEST}}}
        notes.append("POST /v1/chat/completions documents no request body: the run used "
                     "CHAT_REQUEST from this module")
    return document, notes


def operation_order(label: str) -> tuple[int, str]:
    """Reads and writes first; deletions last, so seeded records live as long as possible."""
    method, _, path = label.partition(" ")
    return (1 if method == "DELETE" else 0, path if method == "DELETE" else "")


@dataclass
class FuzzRun:
    """The document the run used and what came of it."""

    document: dict[str, Any]
    report: Report


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzRun]:
    """Seed a fresh server, fuzz it once, print the report (and write it where
    ``FLASHBACK_FUZZ_REPORT`` says); ``FLASHBACK_FUZZ_OPENAPI`` names a candidate document to
    fuzz with instead of the one served."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    with FakeProvider() as provider, LocalServer(data_dir, env=LOOPBACK_ONLY) as server:
        seeded = seed(server, provider, data_dir)
        document = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
        if os.environ.get("FLASHBACK_FUZZ_OPENAPI"):  # a candidate document for this server
            document = json.loads(Path(os.environ["FLASHBACK_FUZZ_OPENAPI"]).read_text())
        document, notes = with_gateway_bodies(document)

        def token_for(path: str) -> str:
            if path.startswith("/v1/"):
                return seeded.gateway_secret
            if path == "/user/logout":  # it ends the bearer's session: a throwaway one
                return admin.create_token(data_dir, ADMIN_EMAIL)
            return seeded.admin_token

        result = run_stateless(document, server.url, token_for=token_for,
                               real_ids=seeded.ids, order=operation_order, budget=BUDGET)
    text = "\n".join([*seeded.notes, *notes, result.render()])
    print(text)
    if os.environ.get("FLASHBACK_FUZZ_REPORT"):
        Path(os.environ["FLASHBACK_FUZZ_REPORT"]).write_text(text + "\n")
    yield FuzzRun(document, result)


@pytest.fixture
def report(fuzz_run: FuzzRun) -> Report:
    """The report of the module's one run."""
    return fuzz_run.report


def unconstrained_answers(document: dict[str, Any]) -> dict[str, list[str]]:
    """The JSON answers whose schema accepts anything: ``METHOD path status`` by schema name."""
    schemas = document.get("components", {}).get("schemas", {})
    found: dict[str, list[str]] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                for media, content in answer.get("content", {}).items():
                    schema = content.get("schema", {})
                    name = schema.get("$ref", "").rpartition("/")[2]
                    resolved = schemas.get(name, {}) if name else schema
                    if media.endswith("json") and not set(resolved) - {"title", "description"}:
                        found.setdefault(name or "(inline)", []).append(
                            f"{method.upper()} {path} {status}")
    return found


def expect_none(report: Report, kind: str) -> None:
    """Fail with the grouped findings if any answer had a failure of ``kind``."""
    if report.count(kind):
        pytest.fail(f"{report.count(kind)} answers: {kind}\n{report.render_groups(kind)}")


def test_every_json_answer_has_a_schema(fuzz_run: FuzzRun) -> None:
    """A schema of ``{}`` contradicts nothing, so the conformance checks would prove nothing."""
    empty = unconstrained_answers(fuzz_run.document)
    listed = [f"{name} ({len(where)}): {', '.join(where[:3])}{' ...' if len(where) > 3 else ''}"
              for name, where in sorted(empty.items())]
    if empty:
        total = sum(map(len, empty.values()))
        pytest.fail(f"{total} JSON answers documented as any value:\n" + "\n".join(listed))


def test_budget_reaches_every_operation(report: Report) -> None:
    assert report.requests >= MIN_REQUESTS, report.render()
    idle = [label for label, tally in report.tallies.items() if tally.requests == 0]
    assert not idle, f"operations without a single request: {idle}"
    assert report.seconds < 120, f"the run took {report.seconds:.0f}s"


def test_no_request_goes_unanswered(report: Report) -> None:
    expect_none(report, TRANSPORT)


def test_no_server_errors(report: Report) -> None:
    expect_none(report, SERVER_ERROR)


def test_no_answer_contradicts_the_schema(report: Report) -> None:
    expect_none(report, CONTRADICTION)


def test_invalid_data_is_rejected(report: Report) -> None:
    expect_none(report, ACCEPTED)

