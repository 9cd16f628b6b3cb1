"""Accounting and policy rules without a server: token counts, batching, no double counts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flashback_tui.api.models import AiType
from flashback_tui.server.accounting import (
    CallUsage,
    UsageAccumulator,
    choice_texts,
    conversation_of,
    conversation_uuid,
    count_tokens,
    message_texts,
)
from flashback_tui.server.policies import PolicyRuleError, compile_rule
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store import workspaces as workspace_store
from flashback_tui.server.store.usage import BucketCounts, BucketKey


def test_gateway_token_count_is_words_and_punctuation() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("") == 0
    assert count_tokens("  multiple   spaces\nand_underscores 42 ") == 4
    assert message_texts([{"role": "user", "content": "a"},
                          {"role": "user", "content": [{"type": "text", "text": "b"},
                                                       {"type": "image_url"}]},
                          "junk"]) == ["a", "b"]
    assert choice_texts([{"delta": {"content": "x", "tool_calls": [
        {"function": {"arguments": '{"q": 1}'}}]}}], "delta") == ["x", '{"q": 1}']


def usage(ai_llm_id: str = "llm", **counts: Any) -> CallUsage:
    return CallUsage(ai_llm_id=ai_llm_id, repo_id="repo", repo_ai_api_key_id="key",
                     llm_type="OPENAI", host="h", **counts)


async def test_failed_write_keeps_counts_and_the_next_write_has_them_once() -> None:
    written: list[dict[BucketKey, BucketCounts]] = []
    fail = [True]

    def writer(batch: dict[BucketKey, BucketCounts]) -> None:
        if fail[0]:
            raise OSError("disk full")
        written.append(batch)

    accumulator = UsageAccumulator(writer)
    minute = 10 * usage_store.MINUTE_MS
    accumulator.add(usage(tokens_in=3, llm_tokens_out=5), at_ms=minute + 1)
    accumulator.add(usage(tokens_in=4, num_blocks=1), at_ms=minute + 59_999)
    accumulator.add(usage(tokens_in=1), at_ms=minute + usage_store.MINUTE_MS)  # next minute
    await accumulator.flush()  # logged; every bucket stays pending
    assert accumulator.pending == 2
    accumulator.add(usage(tokens_in=10), at_ms=minute + 5)
    fail[0] = False
    await accumulator.flush()
    await accumulator.flush()  # nothing left: no second write
    assert len(written) == 1 and accumulator.pending == 0
    by_minute = {key.minute: counts.counters for key, counts in written[0].items()}
    assert by_minute[minute]["api_calls"] == 3
    assert by_minute[minute]["tokens_in"] == 17
    assert by_minute[minute]["llm_tokens_out"] == 5
    assert by_minute[minute]["num_blocks"] == 1
    assert by_minute[minute + usage_store.MINUTE_MS]["api_calls"] == 1


async def test_a_bucket_that_cannot_be_written_never_holds_up_the_others() -> None:
    written: list[dict[BucketKey, BucketCounts]] = []
    bad_minute = 7 * usage_store.MINUTE_MS
    healed = [False]

    def writer(batch: dict[BucketKey, BucketCounts]) -> None:
        if not healed[0] and any(key.minute == bad_minute for key in batch):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        written.append(batch)

    accumulator = UsageAccumulator(writer)
    accumulator.add(usage(tokens_in=1), at_ms=bad_minute)
    for n in range(1, 4):
        accumulator.add(usage(tokens_in=n), at_ms=bad_minute + n * usage_store.MINUTE_MS)
    await accumulator.flush()
    assert sorted(key.minute for batch in written for key in batch) == [
        bad_minute + n * usage_store.MINUTE_MS for n in range(1, 4)]
    assert accumulator.pending == 1  # only the bad one, retried alone
    healed[0] = True
    written.clear()
    await accumulator.flush()
    assert len(written) == 1 and [key.minute for key in written[0]] == [bad_minute]
    assert accumulator.pending == 0


@pytest.mark.parametrize("reported", [
    {"prompt_tokens": 18446744073709551616, "completion_tokens": 1},
    {"prompt_tokens": -1, "completion_tokens": 5},
    {"prompt_tokens": True, "completion_tokens": 5},
    {"prompt_tokens": 2.5, "completion_tokens": 5},
    "lots",
])
def test_counts_a_provider_cannot_mean_are_recorded_as_unknown(reported: object) -> None:
    call = usage()
    call.add_provider_usage(reported)
    assert (call.llm_tokens_in, call.llm_tokens_out) == (0, 0)
    call.add_provider_usage({"prompt_tokens": 2**63 - 1, "completion_tokens": 0})
    assert (call.llm_tokens_in, call.llm_tokens_out) == (2**63 - 1, 0)


@pytest.mark.parametrize("content", ["re:(a+)+$", r"re:(\w+\s?)*x", "re:(?:a|aa)*{2}",
                                     "re:(", "re:" + "a" * 501, "", ", ,"])
def test_unusable_rules_are_refused(content: str) -> None:
    with pytest.raises(PolicyRuleError, match=r"^content: "):
        compile_rule(content)


def test_keyword_rules_match_whole_words_case_insensitively() -> None:
    rule = compile_rule("password, secret key, c++")
    assert rule.search("My PASSWORD is")
    assert rule.search("the secret\n  key")
    assert rule.search("I like C++.")
    assert not rule.search("passwords and secretkey")
    assert compile_rule(r"re:\bssn\b").search("my SSN")


class ChunkStream(httpx.AsyncByteStream):
    """A response body delivered in the given pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self):  # type: ignore[override]
        for piece in self.pieces:
            yield piece


async def test_stream_relay_splits_events_on_any_line_end_and_drops_unasked_usage() -> None:
    from flashback_tui.server.gateway import StreamRelay

    chunk = b'data: {"model": "m1", "choices": [{"delta": {"content": "Hi there"}}]}'
    usage_event = (b'data: {"choices": [], "usage": {"prompt_tokens": 7,'
                   b' "completion_tokens": 2}}')
    body = chunk + b"\r\n\r\n" + usage_event + b"\r\n\r\ndata: [DONE]\r\n\r\n"
    pieces = [body[i:i + 5] for i in range(0, len(body), 5)]  # CR and LF land apart
    finished: list[CallUsage] = []
    sent_before_recorded: list[bytes] = []

    async def record(call: CallUsage) -> None:
        while not relay.queue.empty():
            sent_before_recorded.append(relay.queue.get_nowait())
        finished.append(call)

    relay = StreamRelay(httpx.Response(200, stream=ChunkStream(pieces)), usage(),
                        include_usage=False, finish=record)
    await relay.pump()
    sent = b"".join([b async for b, _ in relay.batches()])
    assert sent_before_recorded == [chunk + b"\n\n"]  # [DONE] waits until it is recorded
    assert sent == b"data: [DONE]\n\n"
    assert finished and finished[0].llm_tokens_in == 7 and finished[0].llm_tokens_out == 2
    assert finished[0].tokens_out == 2 and finished[0].llm_model == "m1"


def test_a_conversation_is_its_key_and_its_opening() -> None:
    system = {"role": "system", "content": "Be brief."}
    ask = {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
    later = [system, ask, {"role": "assistant", "content": "Hello"},
             {"role": "user", "content": "More?"}]
    assert conversation_of("k1", [system, ask]) == conversation_of("k1", later)
    assert conversation_of("k1", [system, ask]) != conversation_of("k2", [system, ask])
    assert conversation_of("k1", [ask]) != conversation_of("k1", [system, ask])
    assert conversation_of("k1", [system, {"role": "user", "content": "Bye"}]) != (
        conversation_of("k1", [system, ask]))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[PlatformState, str]]:
    """A platform's database with one configuration to count usage on."""
    with PlatformState.open(tmp_path / "data") as state:
        conn = state.db.conn()
        workspace_id = workspace_store.find_workspace(conn, "Default")["id"]
        llm_id = llm_store.create_ai_llm(conn, state.keyring, workspace_id=workspace_id,
                                         user_id=None, name="counted", ai_type=AiType.OPENAI,
                                         endpoint=None, key=None, secret=None)
        yield state, llm_id


def active_conversations(state: PlatformState, table: str, time_column: str
                         ) -> dict[int, int]:
    """The sum of ``active_conversations`` per minute (or day) of a usage table."""
    rows = state.db.conn().execute(
        f"SELECT {time_column}, SUM(active_conversations) FROM {table}"
        f" GROUP BY {time_column}").fetchall()
    return {row[0]: row[1] for row in rows}


async def test_a_conversation_counts_once_a_minute_and_a_day_whatever_writes_it(
        database: tuple[PlatformState, str]) -> None:
    """Two accumulators on one database stand for two replicas: the same chat reaching both,
    and reaching one again after a flush, still counts once in its minute and its day."""
    state, llm_id = database
    with PlatformState.open(state.data_dir) as other:
        here = UsageAccumulator.for_database(state.db.conn)
        there = UsageAccumulator.for_database(other.db.conn)
        day = 1_700_000_000_000 // usage_store.DAY_MS * usage_store.DAY_MS
        minute = day + 20 * usage_store.MINUTE_MS
        chat, other_chat = b"chat", b"other"
        here.add(usage(conversation=chat, ai_llm_id=llm_id), at_ms=minute + 1)
        there.add(usage(conversation=chat, ai_llm_id=llm_id), at_ms=minute + 2)
        await here.flush()
        await there.flush()
        here.add(usage(conversation=chat, ai_llm_id=llm_id), at_ms=minute + 3)  # after a flush
        there.add(usage(conversation=other_chat, ai_llm_id=llm_id), at_ms=minute + 4)
        there.add(usage(conversation=chat, ai_llm_id=llm_id),
                  at_ms=minute + usage_store.MINUTE_MS)  # the next minute
        here.add(usage(ai_llm_id=llm_id), at_ms=minute + 5)  # a call without one
        await here.flush()
        await there.flush()
    assert active_conversations(state, "usage_minute", "minute") == {
        minute: 2, minute + usage_store.MINUTE_MS: 1}
    assert active_conversations(state, "usage_daily", "day") == {day: 2}
    calls = state.db.conn().execute("SELECT SUM(api_calls) FROM usage_minute").fetchone()[0]
    assert calls == 6


async def test_buckets_are_keyed_by_model_host_user_and_conversation(
        database: tuple[PlatformState, str]) -> None:
    state, llm_id = database
    written: list[dict[BucketKey, BucketCounts]] = []

    def writer(batch: dict[BucketKey, BucketCounts]) -> None:
        written.append(batch)
        usage_store.write_buckets(state.db.conn(), batch)

    accumulator = UsageAccumulator(writer)
    minute = 30 * usage_store.MINUTE_MS
    chat = conversation_of("key", [{"role": "user", "content": "Hi"}])
    for model, at in (("m1", minute), ("m2", minute + 1), ("m1", minute + 2)):
        accumulator.add(usage(conversation=chat, llm_model=model, user_uuid="u-1",
                              ai_llm_id=llm_id), at_ms=at)
    await accumulator.flush()
    (batch,) = written
    by_model = {key.llm_model: (key, counts) for key, counts in batch.items()}
    assert set(by_model) == {"m1", "m2"}
    key, counts = by_model["m1"]
    assert (key.host, key.user_uuid, key.conversation_uuid) == ("h", "u-1", conversation_uuid(chat))
    assert counts.counters["api_calls"] == 2
    # One conversation in the minute (and the day): the rows add up to 1.
    assert active_conversations(state, "usage_minute", "minute") == {minute: 1}
    assert active_conversations(state, "usage_daily", "day") == {0: 1}
    assert str(uuid.UUID(conversation_uuid(chat))) == conversation_uuid(chat)
    assert conversation_uuid(None) == ""


def test_writers_flushing_side_by_side_lose_and_double_nothing(
        database: tuple[PlatformState, str]) -> None:
    """Four writers (as four replicas' flushes), each with its own connection, write batches
    that share rows and conversations: every counter adds up, every conversation counts once
    in its minute."""
    state, llm_id = database
    minute = 40 * usage_store.MINUTE_MS
    writers, rounds = 4, 15

    def batch(writer: int, n: int) -> dict[BucketKey, BucketCounts]:
        buckets = {}
        for chat in range(3):  # shared by every writer
            key = BucketKey(minute=minute + (n % 2) * usage_store.MINUTE_MS, ai_llm_id=llm_id,
                            repo_id="repo", repo_ai_api_key_id="key", llm_model=f"m{writer % 2}",
                            conversation_uuid=f"chat-{chat}")
            counts = BucketCounts(llm_type="OPENAI", conversation=True)
            counts.counters.update(api_calls=1, tokens_in=2)
            buckets[key] = counts
        return buckets

    def write(writer: int) -> None:
        with PlatformState.open(state.data_dir) as own:
            for n in range(rounds):
                usage_store.write_buckets(own.db.conn(), batch(writer, n))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    conn = state.db.conn()
    calls, tokens = conn.execute("SELECT api_calls, tokens_in FROM usage_totals"
                                 " WHERE ai_llm_id = ?", (llm_id,)).fetchone()
    assert (calls, tokens) == (writers * rounds * 3, writers * rounds * 3 * 2)
    minute_calls = conn.execute("SELECT SUM(api_calls) FROM usage_minute").fetchone()[0]
    assert minute_calls == writers * rounds * 3
    assert active_conversations(state, "usage_minute", "minute") == {
        minute: 3, minute + usage_store.MINUTE_MS: 3}
    assert active_conversations(state, "usage_daily", "day") == {0: 3}
