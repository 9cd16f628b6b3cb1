"""The dashboard's breakdowns: violations by severity and calls per model, from the minute
series' points (points outside the window or of other configurations left out)."""

from __future__ import annotations

from datetime import UTC, datetime

from flashback_tui.api.models import AiStatsPoint
from flashback_tui.domain.usage import breakdown_lines, summarize_minutes

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
MS = int(START.timestamp() * 1000)


def point(minute: int, model: str, calls: int, low=0, medium=0, high=0, llm="a"):
    return AiStatsPoint(timestamp=MS + minute * 60_000, ai_llm_id=llm, llm_model=model,
                        api_calls=calls, num_severity_low=low, num_severity_medium=medium,
                        num_severity_high=high)


def test_severity_and_models_are_summed_over_the_window() -> None:
    series = summarize_minutes([point(0, "gpt-4o", 3, high=1), point(5, "mini", 7, low=2),
                                point(6, "gpt-4o", 1, medium=1), point(90, "late", 50, high=9),
                                point(1, "other", 4, high=4, llm="b")], START,
                               ai_llm_ids={"a"})
    assert series.severity == (2, 1, 1)
    assert list(series.model_calls.items()) == [("mini", 7), ("gpt-4o", 4)]
    assert breakdown_lines(series) == (
        "Violations by severity: low 2 · medium 1 · high 1", "Calls by model: mini 7, gpt-4o 4")


def test_no_traffic_says_so() -> None:
    assert breakdown_lines(summarize_minutes([], START))[1] == (
        "Calls by model: none in the last hour")
