"""How the gateway follows the data version: read on every call on SQLite, polled and bounded
in age on PostgreSQL; and how durable usage shares one write among the calls that wait."""

from __future__ import annotations

import asyncio
import threading

import pytest

from flashback_tui.server.accounting import CallUsage, UsageAccumulator
from flashback_tui.server.gateway.version import DataVersionWatch
from flashback_tui.server.store.usage import BucketCounts, BucketKey


class Reads:
    """A data version that a test moves, counting how often it is read."""

    def __init__(self) -> None:
        self.value = 1
        self.count = 0
        self.fail = False

    def __call__(self) -> tuple[int, ...]:
        self.count += 1
        if self.fail:
            raise OSError("database gone")
        return (self.value,)


class Ticks:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_without_polling_every_call_reads_the_version() -> None:
    reads = Reads()
    watch = DataVersionWatch(reads, poll=False)
    assert await watch.current() == (1,)
    reads.value = 2
    assert await watch.current() == (2,)
    assert reads.count == 2


async def test_a_polled_version_is_trusted_only_while_it_is_young() -> None:
    reads, ticks = Reads(), Ticks()
    watch = DataVersionWatch(reads, poll=True, max_staleness=1.0, clock=ticks)
    assert await watch.current() == (1,)  # nothing read yet: read now
    reads.value = 2
    ticks.now += 0.9
    assert await watch.current() == (1,) and reads.count == 1  # young enough: no read
    ticks.now += 0.2
    assert await watch.current() == (2,) and reads.count == 2  # too old: read again first


async def test_a_local_change_is_read_at_once_and_a_failed_read_forces_the_next() -> None:
    reads, ticks = Reads(), Ticks()
    watch = DataVersionWatch(reads, poll=True, clock=ticks)
    assert await watch.current() == (1,)
    reads.value = 2
    await watch.after_local_change()
    assert await watch.current() == (2,)
    reads.fail = True
    await watch.after_local_change()  # logged, not raised
    with pytest.raises(OSError):
        await watch.current()  # the version cannot be vouched for: no stale answer
    reads.fail = False
    assert await watch.current() == (2,)


async def test_an_older_read_finishing_late_never_moves_the_version_back() -> None:
    ticks = Ticks()
    gate = threading.Event()
    values = iter([(5,), (7,)])

    def read() -> tuple[int, ...]:
        value = next(values)
        if value == (5,):
            gate.wait(10)  # the slow, older read
        return value

    watch = DataVersionWatch(read, poll=True, clock=ticks)
    slow = asyncio.create_task(watch.refresh())
    await asyncio.sleep(0.05)
    await watch.refresh()
    gate.set()
    await slow
    assert await watch.current() == (7,)


async def test_the_background_poll_follows_changes() -> None:
    reads = Reads()
    polled_three = threading.Event()
    threes = []

    def read() -> tuple[int, ...]:
        value = reads()
        if value == (3,):
            threes.append(value)
            if len(threes) == 2:  # the poll that read 3 first has stored it by now
                polled_three.set()
        return value

    # Trusted for an hour: a new value can only come from the background poll.
    watch = DataVersionWatch(read, poll=True, interval=0.01, max_staleness=3600)
    assert await watch.current() == (1,)
    await watch.start()
    try:
        reads.value = 3
        assert await asyncio.to_thread(polled_three.wait, 10)
        assert await watch.current() == (3,)
    finally:
        await watch.stop()


def call() -> CallUsage:
    return CallUsage(ai_llm_id="llm", repo_id="repo", repo_ai_api_key_id="key",
                     llm_type="OPENAI", host="h")


async def test_calls_waiting_for_their_usage_share_one_write() -> None:
    first_write_may_end = threading.Event()
    writes: list[int] = []

    def writer(batch: dict[BucketKey, BucketCounts]) -> None:
        if not writes:
            first_write_may_end.wait(10)
        writes.append(sum(counts.counters["api_calls"] for counts in batch.values()))

    accumulator = UsageAccumulator(writer)
    one = accumulator.add(call())
    first = asyncio.create_task(accumulator.flush(through=one))
    await asyncio.sleep(0.05)  # the first write is under way
    later = [accumulator.add(call()) for _ in range(3)]
    waiting = [asyncio.create_task(accumulator.flush(through=n)) for n in later]
    await asyncio.sleep(0.05)
    first_write_may_end.set()
    await asyncio.gather(first, *waiting)
    assert writes == [1, 3]  # the three later calls went in one write
    assert accumulator.written == later[-1]


async def test_a_failed_write_leaves_its_calls_unwritten() -> None:
    def writer(batch: dict[BucketKey, BucketCounts]) -> None:
        raise OSError("database gone")

    accumulator = UsageAccumulator(writer)
    number = accumulator.add(call())
    await accumulator.flush(through=number)
    assert accumulator.written < number and accumulator.pending == 1
