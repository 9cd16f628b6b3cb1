"""The non-UI rules: origins a secret may go to, field errors in words, summaries, usage."""

from __future__ import annotations

from pydantic import ValidationError

from flashback_tui.api.models import AiLlmCreate
from flashback_tui.domain.fields import field_message, field_problems, split_field_message
from flashback_tui.domain.origins import needs_secret_again, same_origin
from flashback_tui.domain.usage import COUNTERS, fit_count, per_minute, sum_counters
from flashback_tui.domain.validation import ValidationOutcome, summarize


def test_same_origin_compares_scheme_host_and_port() -> None:
    assert same_origin("https://api.openai.com/v1", "https://API.openai.com:443/other")
    assert not same_origin("https://api.openai.com/v1", "http://api.openai.com/v1")
    assert not same_origin("https://api.openai.com/v1", "https://evil.example/v1")
    assert not same_origin("http://h:8000/v1", "http://h:8001/v1")


def test_secret_is_needed_again_for_a_new_origin_or_type() -> None:
    official = "https://api.openai.com/v1"
    assert not needs_secret_again(official, "OPENAI", official + "/", "OPENAI")
    assert needs_secret_again(official, "OPENAI", "http://my-host/v1", "OPENAI")
    assert needs_secret_again(official, "OPENAI", official, "ANTHROPIC")
    # back to the type's official endpoint: no secret needed
    assert not needs_secret_again("http://my-host/v1", "OPENAI", official, "OPENAI")
    assert needs_secret_again("http://a/v1", "OTHER", "http://b/v1", "OTHER")


def test_field_messages_round_trip_and_pydantic_in_plain_words() -> None:
    assert split_field_message(field_message("name", "already exists")) == \
        ("name", "Already exists")
    assert split_field_message("secret: required when the endpoint moves")[0] == "secret"
    try:
        AiLlmCreate(name="x" * 300, ai_type="OPENAI", workspace_id="w")
    except ValidationError as exc:
        problems = dict(field_problems(exc.errors()))
    assert problems["name"] == "Name is too long: at most 255 characters"


def test_validation_summary_counts_each_kind() -> None:
    outcomes = [ValidationOutcome("a", True, "ok"), ValidationOutcome("b", False, "401"),
                ValidationOutcome("c", False, "endpoint unreachable (connection refused)"),
                ValidationOutcome("d", False, "forbidden", request_failed=True)]
    assert summarize(outcomes).text == "1 valid, 1 invalid, 1 unreachable, 1 not checked"
    assert summarize([], cancelled=2).text == "2 cancelled"


def test_usage_arithmetic() -> None:
    labels = [c.label for c in COUNTERS]
    assert len(set(labels)) == len(labels) and "LLM in" in labels and "LLM out" in labels
    assert sum_counters([(1,) * 8, (2,) * 8]) == (3,) * 8
    assert per_minute(10, 4, 30) == 12.0
    assert fit_count(1_234_567, 9) == "1,234,567" and fit_count(1_234_567, 5) == "1.23M"
