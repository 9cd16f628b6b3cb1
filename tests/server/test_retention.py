"""Retention: pruning removes exactly what is older than the policy allows, and nothing else;
daily usage and totals outlive the per-minute rows."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import SecretStr

from flashback_tui.api.models import AiType
from flashback_tui.server.retention import DAY_MS, RetentionPolicy, prune_once
from flashback_tui.server.sql import transaction
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import events as event_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store import usage_buckets
from flashback_tui.server.store import violations as violation_store

NOW = 1_800_000_000_000 - 1_800_000_000_000 % DAY_MS + 12 * 3_600_000  # a midday, Unix ms
POLICY = RetentionPolicy(minute_days=14, violation_days=90, event_days=90, batch=3)


def violation(org_id: str, at_ms: int, *, alert: bool = False) -> violation_store.ViolationRecord:
    return violation_store.ViolationRecord(
        id=str(uuid.uuid4()), org_id=org_id, at_ms=at_ms, policy_id="p", policy_name="p",
        workspace_id="w", repo_id="r", repo_name="r", user_id="", user_name="",
        repo_ai_api_key_id="k", repo_ai_api_key_name="k", ai_llm_id="", llm_type="OPENAI",
        llm_model="m", host="h", severity="LOW", block=False, explanation="matched",
        conversation_id=None, alert=alert)


def seed(data_dir: Path) -> tuple[PlatformState, str]:
    state = PlatformState.open(data_dir)
    conn = state.db.conn()
    workspace_id = conn.execute("SELECT id FROM workspaces").fetchone()[0]
    llm_id = llm_store.create_ai_llm(conn, state.keyring, workspace_id=workspace_id,
                                     user_id=None, name="kept", ai_type=AiType.OPENAI,
                                     endpoint=None, secret=SecretStr("sk-retention"))
    org_id = conn.execute("SELECT org_id FROM workspaces").fetchone()[0]
    for age_days in (1, 13.9, 14.1, 20, 40):  # one call a day at these ages
        usage_store.record_usage(conn, llm_id, at_ms=NOW - int(age_days * DAY_MS),
                                 api_calls=1, tokens_in=10)
    violation_store.write_violations(conn, [
        violation(org_id, NOW - int(days * DAY_MS), alert=alert)
        for days in (1, 89, 91, 200) for alert in (False, True)])
    with transaction(conn):
        for n, days in enumerate((1, 89.5, 90.5, 365)):
            event_store.record(conn, None, context=event_store.AI_LLM, context_id=f"event-{n}",
                               event=event_store.UPDATED)
            conn.execute("UPDATE system_events SET at = ? WHERE context_id = ?",
                         (event_store_time(NOW - int(days * DAY_MS)), f"event-{n}"))
    return state, llm_id


def event_store_time(ms: int) -> str:
    from datetime import UTC, datetime

    from flashback_tui.api.models import format_timestamp

    return format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))


def ages(conn, sql: str) -> list[float]:
    return sorted(round((NOW - row[0]) / DAY_MS, 1) for row in conn.execute(sql))


def test_pruning_removes_exactly_what_is_older_than_the_retention(tmp_path: Path) -> None:
    state, llm_id = seed(tmp_path)
    try:
        conn = state.db.conn()
        pruned = prune_once(state.db.conn, POLICY, at_ms=NOW)
        # An alerting match is a violation and an alert: 4 violations and 2 alerts go.
        assert (pruned.minutes, pruned.violations, pruned.events) == (3, 6, 2)
        assert ages(conn, "SELECT minute FROM usage_minute") == [1.0, 13.9]
        assert ages(conn, "SELECT at_ms FROM policy_violations") == [1.0, 1.0, 89.0, 89.0]
        assert ages(conn, "SELECT at_ms FROM policy_alerts") == [1.0, 89.0]
        assert [r[0] for r in conn.execute(
            "SELECT context_id FROM system_events WHERE context_id LIKE 'event-%' ORDER BY id")
        ] == ["event-0", "event-1"]
        # Daily usage and the totals are kept for ever: all five calls are still there.
        daily = usage_store.usage_points(
            conn, conn.execute("SELECT id FROM users").fetchone()[0],
            start_ms=NOW - 50 * DAY_MS, end_ms=NOW + DAY_MS, bucket_ms=usage_store.DAY_MS)
        assert sum(point.counters["api_calls"] for point in daily) == 5
        totals = conn.execute("SELECT api_calls FROM usage_totals WHERE ai_llm_id = ?",
                              (llm_id,)).fetchone()[0]
        assert totals == 5
        # A second pass finds nothing more to do.
        assert prune_once(state.db.conn, POLICY, at_ms=NOW) == type(pruned)(0, 0, 0)
    finally:
        state.close()


def test_conversations_counted_are_remembered_while_a_count_may_still_come(
        tmp_path: Path) -> None:
    """Minute conversations are kept an hour, day ones two days (batch by batch)."""
    state, llm_id = seed(tmp_path)
    try:
        conn = state.db.conn()
        minute, day = usage_store.MINUTE_MS, usage_store.DAY_MS
        ages_ms = {minute: [0, 59 * minute, 61 * minute, 62 * minute, 63 * minute, 64 * minute],
                   day: [day // 2, 1 * day, 2 * day + minute]}
        with transaction(conn):
            usage_buckets.remember_conversations(conn, [
                (span, NOW - age, llm_id, "r", "k", f"chat-{n}")
                for span, spans_ages in ages_ms.items() for n, age in enumerate(spans_ages)])
        pruned = prune_once(state.db.conn, POLICY, at_ms=NOW)
        assert pruned.conversations == 5
        kept = conn.execute("SELECT span_ms, period FROM usage_conversations"
                            " ORDER BY span_ms, period").fetchall()
        assert [(row[0], NOW - row[1]) for row in kept] == [
            (minute, 59 * minute), (minute, 0), (day, day), (day, day // 2)]
    finally:
        state.close()
