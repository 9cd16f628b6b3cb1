"""Conformance: the hosted platform's own TypeScript client against the real local platform.

``run.js`` drives every ``ApiClient`` method of the areas in API.md (AI LLM configurations,
AI models, repositories and their AI keys, policies with violations and alerts, workspaces
and members, sign-in and users, system events, the AI time series) through a scenario, and
checks each answer against the client's types as transcribed in ``shapes.js``. This module
starts a local server on loopback with a fresh data dir, seeds a world through
:mod:`flashback_tui.server.admin`, runs ``node run.js`` once per mode and reports one test per
case:

``normal``
    extra fields in answers are allowed (the local platform's extensions);
``strict``
    the server runs with ``FLASHBACK_STRICT_WIRE=1`` and a field that the type does not
    declare is a problem.

The client is not part of the project: it is loaded from ``<project root>/../shared/
flashbackclient`` (or ``$FLASHBACK_CLIENT_DIR``). Without ``node`` or the client the tests are
skipped, unless ``$CI`` is set, in which case they fail. With ``$FLASHBACK_CONFORMANCE_OUT``
set to a directory, each run's raw output is also written there as ``<mode>.jsonl``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from tests.support.backends import POSTGRES, SQLITE, backend_env
from tests.support.fake_provider import DEFAULT_VALID_KEY, OPENAI_MODELS, FakeProvider

HERE = Path(__file__).resolve().parent
RUN_JS = HERE / "run.js"
PROJECT_ROOT = HERE.parent.parent
CLIENT_DIR = Path(os.environ.get("FLASHBACK_CLIENT_DIR")
                  or PROJECT_ROOT.parent / "shared" / "flashbackclient")
NODE = shutil.which("node")

#: run.js must plan at least this many cases; fewer means cases were lost, not that all is well.
MIN_CASES = 165
#: normal and strict wire on SQLite, and normal wire on PostgreSQL.
MODES = ("normal", "strict", "postgres")
#: The first user of a data dir, the org OWNER (API.md, "What the local platform decides").
LOCAL_ADMIN_EMAIL = "admin@localhost"
ROTATED_KEY = "sk-fake-valid-key-0002"
REFUSED_KEY = "sk-fake-refused-key-9999"
RUN_TIMEOUT = 300


def _prerequisite_missing() -> str | None:
    if NODE is None:
        return "node is not installed"
    if not (CLIENT_DIR / "api.cjs").is_file():
        return f"the platform's TypeScript client is not at {CLIENT_DIR}"
    return None


def _require_prerequisites() -> None:
    reason = _prerequisite_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def _planned_cases() -> list[str]:
    """The case ids that run.js will run (``--list`` needs no server)."""
    if _prerequisite_missing():
        return []
    listed = subprocess.run([NODE, str(RUN_JS), "--list"], capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(listed.stdout)["plan"]


PLAN = _planned_cases()


@dataclass
class ConformanceRun:
    """What one ``node run.js`` printed."""

    mode: str
    returncode: int
    plan: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] | None = None
    other_output: list[str] = field(default_factory=list)
    stderr: str = ""

    def diagnostics(self) -> str:
        parts = [f"\nexit status {self.returncode}"]
        if self.other_output:
            parts.append("other output:\n" + "\n".join(self.other_output[-20:]))
        if self.stderr.strip():
            parts.append("stderr:\n" + self.stderr.strip()[-3000:])
        return "\n".join(parts)


def _parse(mode: str, completed: subprocess.CompletedProcess[str]) -> ConformanceRun:
    run = ConformanceRun(mode=mode, returncode=completed.returncode, stderr=completed.stderr)
    for line in completed.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            run.other_output.append(line)
        elif "plan" in record:
            run.plan = record["plan"]
        elif "summary" in record:
            run.summary = record["summary"]
        elif "case" in record:
            run.results[record["case"]] = record
        else:
            run.other_output.append(line)
    return run


def _seed(data_dir: Path, server: LocalServer, provider: FakeProvider) -> dict[str, Any]:
    """A workspace with an ADMIN who has a password, READ and WRITE members, two outsiders."""
    tag = uuid.uuid4().hex[:8]
    workspace_name = f"conformance-{tag}"
    workspace_id = admin.add_workspace(data_dir, workspace_name)
    users: dict[str, dict[str, Any]] = {
        "owner": {"email": LOCAL_ADMIN_EMAIL, "token": server.admin_token.get_secret_value()},
    }
    for who, role in (("admin", "ADMIN"), ("read", "READ"), ("write", "WRITE"),
                      ("none", None), ("spare", None)):
        email = f"{who}-{tag}@example.test"
        name = f"{who.title()} Conformance"
        password = f"pw-{uuid.uuid4().hex}" if who == "admin" else None
        user_id = admin.add_user(data_dir, email, password=password, name=name)
        if role is not None:
            admin.add_member(data_dir, workspace_id, email, role)
        users[who] = {"id": user_id, "email": email, "name": name,
                      "token": admin.create_token(data_dir, email)}
        if password is not None:
            users[who]["password"] = password
    endpoint = provider.endpoint("ok")
    return {
        "workspace": {"id": workspace_id, "name": workspace_name},
        "users": users,
        "provider": {
            "endpoint": endpoint,
            # The same provider under another host name: another origin.
            "otherOriginEndpoint": endpoint.replace("://127.0.0.1:", "://localhost:"),
            "secret": DEFAULT_VALID_KEY,
            "rotatedSecret": ROTATED_KEY,
            "badSecret": REFUSED_KEY,
            "models": list(OPENAI_MODELS),
        },
    }


@pytest.fixture(scope="module", params=MODES)
def conformance(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConformanceRun]:
    """A fresh local platform for the mode, seeded, and run.js's results against it."""
    _require_prerequisites()
    mode = request.param
    strict = mode == "strict"
    data_dir = tmp_path_factory.mktemp(f"conformance-{mode}")
    # An empty value leaves strict-wire mode off even if the developer's shell sets it.
    env = {"FLASHBACK_PROBE_TIMEOUT": "2", "FLASHBACK_STRICT_WIRE": "1" if strict else "",
           **backend_env(POSTGRES if mode == "postgres" else SQLITE)}
    node_env = {k: v for k, v in os.environ.items()
                if k not in ("FLASHBACK_BASE_URL", "FLASHBACK_FIXTURES", "FLASHBACK_STRICT")}
    node_env["FLASHBACK_CLIENT_DIR"] = str(CLIENT_DIR)
    with (FakeProvider(valid_keys={DEFAULT_VALID_KEY, ROTATED_KEY}) as provider,
          pytest.MonkeyPatch.context() as patch):
        for name in ("FLASHBACK_DATABASE_URL", "FLASHBACK_MASTER_KEY"):
            if name in env:
                patch.setenv(name, env[name])  # the seeding writes to the same database
        server = LocalServer(data_dir, env=env)
        server.start()
        try:
            fixtures_path = data_dir / "conformance-fixtures.json"
            fixtures_path.write_text(json.dumps(_seed(data_dir, server, provider), indent=2))
            fixtures_path.chmod(0o600)
            command = [NODE, str(RUN_JS), "--base-url", server.url,
                       "--fixtures", str(fixtures_path)]
            if strict:
                command.append("--strict")
            completed = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT,
                                       env=node_env, timeout=RUN_TIMEOUT, check=False)
        finally:
            server.stop()
    out_dir = os.environ.get("FLASHBACK_CONFORMANCE_OUT")
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / f"{mode}.jsonl").write_text(completed.stdout)
    yield _parse(mode, completed)


CHECKER_EXAMPLES = r"""
const { check } = require('./check');
const S = require('./shapes');
const id = '550e8400-e29b-41d4-a716-446655440000';
const key = { id, name: 'k', repoId: id, key: null, aiType: 'OPENAI',
              createdAt: '2024-01-15T10:30:00.000Z', deletedAt: null };
const wrong = JSON.parse(JSON.stringify({
  ...key, repoId: undefined, key: 5, createdAt: '2024-01-15', deletedAt: undefined }));
const stats = { aiLlmId: id, totalApiCalls: 7, totalTokensIn: '12', totalTokensOut: '0',
                totalLlmTokensIn: '012', totalLlmTokensOut: '1', totalPolicyViolations: '0',
                totalAlerts: '0', totalBlocks: '0' };
process.stdout.write(JSON.stringify({
  conforming: check(key, S.RepoAiApiKey, { strict: true }),
  extension: check({ ...key, secretMask: '****abcd' }, S.RepoAiApiKey),
  strictExtension: check({ ...key, secretMask: '****abcd' }, S.RepoAiApiKey, { strict: true }),
  wrong: check(wrong, S.RepoAiApiKey),
  nested: check({ success: true, apiKeys: [key, { ...key, aiType: 'openai' }] },
                S.GetRepoAiApiKeysResponse),
  optionalNull: check({ success: true, aiLlmId: id, message: null }, S.CreateAiLlmResponse),
  optionalAbsent: check({ success: true, aiLlmId: id }, S.CreateAiLlmResponse),
  decimals: check(stats, S.AiLlmStats),
  literalFalse: check({ success: true, message: 'x' }, S.WorkspaceError),
}));
"""


def test_the_checker_names_each_problem_with_its_path() -> None:
    """check.js finds missing, mistyped, malformed and (in strict mode) undeclared fields."""
    _require_prerequisites()
    out = subprocess.run([NODE, "-e", CHECKER_EXAMPLES], capture_output=True, text=True,
                         cwd=HERE, timeout=60, check=True)
    results = json.loads(out.stdout)
    assert results["conforming"] == []
    assert results["extension"] == []
    assert results["strictExtension"] == [
        '$.secretMask: not declared by the type (strict), got string "****abcd"']
    assert results["wrong"] == [
        "$.repoId: missing (a UUID string)",
        "$.key: expected string | null, got number 5",
        '$.createdAt: expected an ISO 8601 UTC timestamp string, got string "2024-01-15"',
        "$.deletedAt: missing (an ISO 8601 UTC timestamp string | null)",
    ]
    assert results["nested"] == [
        '$.apiKeys[1].aiType: expected one of "OPENAI" | "GOOGLE" | "ANTHROPIC" | "AWS" | "OTHER",'
        ' got string "openai"']
    assert results["optionalNull"] == ["$.message: expected string, got null"]
    assert results["optionalAbsent"] == []
    assert results["decimals"] == [
        "$.totalApiCalls: expected a decimal string, got number 7",
        '$.totalLlmTokensIn: expected a decimal string, got string "012"',
    ]
    assert results["literalFalse"] == ["$.success: expected false, got boolean true"]


def _failure(run: ConformanceRun, result: dict[str, Any]) -> str:
    problems = result.get("problems") or []
    head = (f"[{run.mode}] {result['case']} as {result.get('as')}: {result.get('request')}"
            f" -> {result.get('status')}: {len(problems)} problem(s)")
    lines = [head, f"  ({result.get('what')})"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)


def test_the_run_is_complete(conformance: ConformanceRun) -> None:
    """run.js ran its whole plan: no crash, no case lost, and not suspiciously few cases."""
    assert conformance.returncode in (0, 1), conformance.diagnostics()
    assert conformance.summary is not None, f"no summary line{conformance.diagnostics()}"
    assert conformance.plan == PLAN, "the plan differs from run.js --list"
    assert len(conformance.plan) >= MIN_CASES, (
        f"only {len(conformance.plan)} cases planned, expected at least {MIN_CASES}")
    missing = [case for case in conformance.plan if case not in conformance.results]
    assert not missing, f"no result for {missing}{conformance.diagnostics()}"
    assert conformance.summary["cases"] == len(conformance.plan)


@pytest.mark.parametrize("case", PLAN or ["(no plan: node or the client is missing)"])
def test_case(conformance: ConformanceRun, case: str) -> None:
    """One case of run.js: the call answered as the platform's client types say."""
    result = conformance.results.get(case)
    assert result is not None, f"run.js printed no result for {case}{conformance.diagnostics()}"
    if not result["ok"]:
        pytest.fail(_failure(conformance, result), pytrace=False)
