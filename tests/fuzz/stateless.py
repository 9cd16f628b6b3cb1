"""A bounded, deterministic Schemathesis stateless run, tallied per operation.

:func:`run_stateless` takes the OpenAPI document a running server publishes, generates a fixed
number of cases per operation with a fixed seed (positive data, and negative data where the
operation has something to negate), sends each with the given bearer token, runs the response
checks on the answer and never stops at a failure: every case is sent, every failure is kept
(see :mod:`tests.fuzz.findings`). The first positive case of each operation is also sent once
without a token, so that undocumented 401s show.

Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance`` and
``response_schema_conformance`` on every answer; ``negative_data_rejection`` on answers to
negative cases (expected: the contract's 400, 401, 403, 404) and ``positive_data_acceptance``
on answers to positive ones (expected: 2xx, 401, 403, 404). A 400 to positive data means the
schema allows something the server refuses; some of those are rules no schema can state (a
unique name), so they are listed, and the caller decides what to assert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.fuzz.findings import (
    ACCEPTED,
    CONTRADICTION,
    REFUSED,
    SERVER_ERROR,
    TRANSPORT,
    Finding,
    Report,
    Tally,
    causes_of,
    short,
)

#: The contract's refusal statuses (API.md: validation failures are 400, never 422). A 5xx is
#: counted once, as a server error, so both lists accept it here.
CONFIG = {"checks": {
    "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "5xx"]},
    "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "5xx"]},
}}


@dataclass(frozen=True)
class Budget:
    """Cases per operation, the seed, and the per-request timeout."""

    positive: int = 20
    negative: int = 10
    seed: int = 13
    request_timeout: float = 10.0


def run_stateless(
    document: dict[str, Any],
    base_url: str,
    *,
    token_for: Callable[[str], str],
    real_ids: Mapping[str, str] | None = None,
    order: Callable[[str], Any] | None = None,
    budget: Budget = Budget(),
) -> Report:
    """Fuzz every operation of the OpenAPI ``document`` served at ``base_url``; never raises
    on a finding.

    ``token_for(path)`` is the bearer token of one case of the operation at ``path`` (asked
    once per case). In about half the positive cases, path and query parameters and top-level
    body fields named in ``real_ids`` take those values (real records); the rest keep what was
    generated. ``order(label)`` sorts the operations (destructive ones last, say).
    """
    import schemathesis
    from schemathesis.core.result import Ok

    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_dict(document, config=config)
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    operations.sort(key=lambda op: order(op.label) if order else 0)
    report = Report()
    started = time.monotonic()
    for operation in operations:
        tally = report.tallies.setdefault(operation.label, Tally())
        for mode, examples in (("positive", budget.positive), ("negative", budget.negative)):
            cases = _generate(operation, mode, examples, budget.seed, real_ids or {},
                              tally.notes)
            for case in cases:
                _exercise(case, mode, token_for(operation.path), base_url, budget, tally, report)
            if mode == "positive" and cases:
                _exercise(cases[0], "no token", None, base_url, budget, tally, report)
    report.seconds = time.monotonic() - started
    return report


def _generate(operation: Any, mode: str, examples: int, seed: int,
              real_ids: Mapping[str, str], notes: list[str]) -> list[Any]:
    """Up to ``examples`` cases of one operation, the same ones on every run."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    positive = mode == "positive"
    generation = GenerationMode.POSITIVE if positive else GenerationMode.NEGATIVE
    strategy = operation.as_strategy(generation_mode=generation)
    if positive and real_ids:
        strategy = st.tuples(strategy, st.booleans()).map(
            lambda drawn: _with_real_ids(drawn[0], real_ids) if drawn[1] else drawn[0])
    cases: list[Any] = []

    @fixed_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False)
    @given(strategy)
    def collect(case: Any) -> None:
        cases.append(case)

    try:
        with _only_global_constants():
            collect()
    except Exception as error:  # e.g. an operation with nothing to negate
        notes.append(f"{mode}: {type(error).__name__}: {short(str(error), 160)}")
    return cases[:examples]


@contextmanager
def _only_global_constants() -> Iterator[None]:
    """Generate without the constants Hypothesis mines from the local modules imported so far:
    which those are depends on what else the process collected, and a seeded run must not."""
    from unittest import mock

    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):  # a Hypothesis without the feature
        yield
        return
    empty = providers.Constants()
    with mock.patch.object(providers, "_get_local_constants", lambda: empty), \
            mock.patch.object(providers, "CONSTANTS_CACHE", type(providers.CONSTANTS_CACHE)(1024)):
        yield


def _with_real_ids(case: Any, real_ids: Mapping[str, str]) -> Any:
    """The case with its id-like values replaced by the seeded ones of the same name."""
    if case.path_parameters:
        case.path_parameters = {k: real_ids.get(k, v) for k, v in case.path_parameters.items()}
    if case.query:
        case.query = {k: real_ids.get(k, v) for k, v in case.query.items()}
    if _has_body(case) and isinstance(case.body, dict):
        case.body = {k: real_ids.get(k, v) for k, v in case.body.items()}
    return case


def _exercise(case: Any, mode: str, token: str | None, base_url: str, budget: Budget,
              tally: Tally, report: Report) -> None:
    """Send one case, check the answer, and record what failed."""
    from schemathesis.core.failures import AcceptedNegativeData, FailureGroup, ServerError
    from schemathesis.openapi.checks import RejectedPositiveData

    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    tally.requests += 1
    try:
        response = case.call(base_url=base_url, timeout=budget.request_timeout)
    except Exception as error:  # a timeout or a dropped connection
        _record(report, tally, case, mode, None, [(TRANSPORT, type(error).__name__, str(error))])
        return
    tally.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=_checks(mode))
    except FailureGroup as group:
        found = []
        for failure in group.exceptions:
            if isinstance(failure, ServerError):
                kind = SERVER_ERROR
            elif isinstance(failure, AcceptedNegativeData):
                kind = ACCEPTED
            elif isinstance(failure, RejectedPositiveData):
                kind = REFUSED
            else:
                kind = CONTRADICTION
            message = getattr(failure, "_raw_message", None) or failure.message
            detail = f"{message} | {short(response.text, 300)}"
            found += [(kind, cause, detail) for cause in causes_of(failure, response)]
        _record(report, tally, case, mode, response.status_code, found)


def _record(report: Report, tally: Tally, case: Any, mode: str, status: int | None,
            found: list[tuple[str, str, str]]) -> None:
    for kind, cause, detail in found:
        report.findings.append(Finding(
            operation=case.operation.label, kind=kind, cause=cause, status=status, mode=mode,
            method=case.method, path=case.formatted_path, query=dict(case.query or {}),
            body=case.body if _has_body(case) else None, detail=detail))
    for kind in {kind for kind, _, _ in found}:
        tally.failures[kind] += 1


def _has_body(case: Any) -> bool:
    from schemathesis.core import NOT_SET

    return case.body is not NOT_SET


def _checks(mode: str) -> list[Any]:
    """The checks for an answer to a case of ``mode`` (positive, negative, no token)."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        positive_data_acceptance,
        response_schema_conformance,
        status_code_conformance,
    )

    chosen = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    extra = {"positive": [positive_data_acceptance], "negative": [negative_data_rejection]}
    return chosen + extra.get(mode, [])
