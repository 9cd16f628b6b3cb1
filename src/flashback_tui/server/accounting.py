"""Gateway accounting: counting tokens, and recording every call into per-minute buckets.

Token counts
    ``llmTokensIn``/``llmTokensOut`` are the provider's own ``usage.prompt_tokens`` and
    ``usage.completion_tokens`` (for streams the gateway asks for them with
    ``stream_options.include_usage``). ``tokensIn``/``tokensOut`` are counted by the gateway
    on the text it saw, with :func:`count_tokens`: a deterministic approximation that counts
    each run of letters/digits/underscores as one token and each other non-space character
    as one token (``"Hello, world!"`` is 4). ``tokensIn`` covers the text of every message
    of the request (string contents and ``text`` parts), ``tokensOut`` the text the
    provider returned (message or delta contents and tool-call arguments) that the gateway
    relayed. No network, no model-specific tokenizer: the figures are comparable across
    providers and stable across versions, and they differ from the provider's on purpose.

Conversations
    Chat calls are stateless: each turn of a chat sends the whole history again. A call's
    conversation is therefore identified by its key and its opening (the text of the first
    system message and of the first user message): every later turn of the same chat repeats
    them. A call's ``conversationUuid`` is that digest written as a UUID. Buckets are per
    conversation, so ``activeConversations`` is 1 on the bucket where a conversation was first
    written in a minute (for its configuration, repository and key) and 0 on its others: a
    minute's buckets add up to its distinct conversations, and a day's likewise. The database
    decides which write is the first (see :mod:`flashback_tui.server.store.usage_buckets`),
    so a conversation whose calls reach several replicas, or a restarted one, counts once.
    Two chats that open with the same words through the same key count as one.

Recording
    Each call's counts are added to an in-memory :class:`UsageAccumulator`. A background
    task writes the pending buckets every second in one transaction; the server also writes
    them before answering the usage reads (``/ai/llm/stats``, ``/aistats/*``) and at
    shutdown. With durable usage (the default on PostgreSQL, where replicas may be killed
    and restarted at any time), a call's answer also waits until its counts are written
    (:meth:`UsageAccumulator.flush` ``through`` the call): the calls that finish meanwhile
    are written together, one transaction for all of them (a group commit), so a call a
    client saw complete is counted even if the process dies the next instant. When a batch
    fails, each bucket is
    written alone and only those that fail again stay pending, so no count is lost and no
    bad bucket holds up the others. Provider counts are checked where they enter
    (:func:`is_token_count`). Latency is the time from the request's arrival to the provider's
    last byte; model, host and end user (the chat request's ``user``) key each bucket.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flashback_tui.server.store import base as store_base
from flashback_tui.server.store.usage_buckets import (
    MINUTE_MS,
    BucketCounts,
    BucketKey,
    write_buckets,
)

logger = logging.getLogger("flashback_tui.server.accounting")

_TOKEN = re.compile(r"\w+|[^\w\s]")

#: Seconds between background writes of pending usage.
FLUSH_INTERVAL = 1.0


def count_tokens(text: str) -> int:
    """The gateway's token count of ``text`` (see the module docstring)."""
    return len(_TOKEN.findall(text)) if text else 0


def message_texts(messages: Iterable[Any]) -> list[str]:
    """The text of chat messages: string contents and ``{"type": "text"}`` parts."""
    texts = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(part["text"] for part in content
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    return texts


def conversation_of(key_id: str, messages: Iterable[Any]) -> bytes:
    """A digest identifying the chat a call belongs to (see the module docstring)."""
    opening: dict[str, str] = {}
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role in ("system", "user") and role not in opening:
            opening[role] = "\n".join(message_texts([message]))
        if len(opening) == 2:
            break
    digest = hashlib.blake2b(digest_size=16)
    for part in (key_id, opening.get("system", ""), opening.get("user", "")):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.digest()


def conversation_uuid(conversation: bytes | None) -> str:
    """A conversation digest (:func:`conversation_of`) as a UUID string, ``""`` for none."""
    if not conversation:
        return ""
    return str(uuid.UUID(bytes=conversation[:16].ljust(16, b"\0")))


def choice_texts(choices: Any, part: str) -> list[str]:
    """Text in the ``message`` (or ``delta``) of completion choices, tool calls included."""
    texts: list[str] = []
    if not isinstance(choices, list):
        return texts
    for choice in choices:
        body = choice.get(part) if isinstance(choice, dict) else None
        if not isinstance(body, dict):
            continue
        if isinstance(body.get("content"), str):
            texts.append(body["content"])
        calls = body.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                texts.append(function["arguments"])
    return texts


#: The largest count a 64-bit signed database integer holds.
MAX_COUNT = 2**63 - 1
_bad_usage_seen: set[str] = set()
_bad_usage_lock = threading.Lock()


def is_token_count(value: Any) -> bool:
    """A count a provider may report: an ``int`` (not a bool) from 0 to :data:`MAX_COUNT`."""
    return type(value) is int and 0 <= value <= MAX_COUNT


def _report_bad_usage(llm_id: str) -> None:
    """Log once per configuration that its provider reported counts that cannot be right."""
    with _bad_usage_lock:
        if llm_id in _bad_usage_seen:
            return
        _bad_usage_seen.add(llm_id)
    logger.warning("the provider of configuration %s reported token counts that are not"
                   " counts (negative, not whole numbers, or too large): recorded as unknown",
                   llm_id)


@dataclass
class CallUsage:
    """What one gateway call counts; filled in as the call goes."""

    ai_llm_id: str
    repo_id: str
    repo_ai_api_key_id: str
    llm_type: str
    host: str
    llm_model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    policy_violations: int = 0
    num_alerts: int = 0
    num_blocks: int = 0
    severities: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    conversation: bytes | None = None
    #: The chat request's ``user`` field, or ``""``.
    user_uuid: str = ""

    def add_provider_usage(self, usage: Any) -> None:
        """Take the provider's ``usage`` object, if its counts are believable.

        Counts must be integers from 0 to 2**63 - 1 (what a 64-bit counter holds); anything
        else (a negative number, ``true``, a float, a number too big to store) is recorded
        as unknown, that is 0, and logged once per configuration.
        """
        if usage is None:
            return
        prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
        if is_token_count(prompt) and is_token_count(completion):
            self.llm_tokens_in, self.llm_tokens_out = prompt, completion
        else:
            _report_bad_usage(self.ai_llm_id)

    def bucket(self) -> BucketCounts:
        """This call as bucket counters (one API call)."""
        counts = BucketCounts(latency_ms_total=self.latency_ms, llm_type=self.llm_type or "")
        c = counts.counters
        c["api_calls"] = 1
        c["tokens_in"], c["tokens_out"] = self.tokens_in, self.tokens_out
        c["llm_tokens_in"], c["llm_tokens_out"] = self.llm_tokens_in, self.llm_tokens_out
        c["policy_violations"] = self.policy_violations
        c["num_alerts"], c["num_blocks"] = self.num_alerts, self.num_blocks
        c["num_severity_low"] = self.severities.get("LOW", 0)
        c["num_severity_medium"] = self.severities.get("MEDIUM", 0)
        c["num_severity_high"] = self.severities.get("HIGH", 0)
        return counts


class UsageAccumulator:
    """Pending usage per bucket, in memory, written to the database in batches.

    ``add`` is cheap and thread-safe and returns the call's number in the order of adds;
    ``flush`` writes everything pending in one transaction (in a worker thread) and is
    serialized, so when it returns every count added before the call is in the database
    (unless a write failed: then :attr:`written` stays behind).
    """

    def __init__(self, writer: Callable[[dict[BucketKey, BucketCounts]], None]) -> None:
        self._writer = writer
        self._pending: dict[BucketKey, BucketCounts] = {}
        self._lock = threading.Lock()
        self._flush_lock: asyncio.Lock | None = None
        self._added = 0
        #: Every call numbered up to this one is in the database.
        self.written = 0

    @classmethod
    def for_database(cls, conn_of_thread: Callable[[], Any]) -> UsageAccumulator:
        """An accumulator that writes through ``conn_of_thread()`` (a per-thread connection)."""
        return cls(lambda batch: write_buckets(conn_of_thread(), batch))

    def add(self, usage: CallUsage, at_ms: int | None = None) -> int:
        """Count one call in the bucket of the minute it finished in; the call's number."""
        at = store_base.now_ms() if at_ms is None else at_ms
        minute = at - at % MINUTE_MS
        key = BucketKey(minute=minute, ai_llm_id=usage.ai_llm_id, repo_id=usage.repo_id,
                        repo_ai_api_key_id=usage.repo_ai_api_key_id,
                        llm_model=usage.llm_model or "", host=usage.host or "",
                        user_uuid=usage.user_uuid or "",
                        conversation_uuid=conversation_uuid(usage.conversation))
        counts = usage.bucket()
        counts.conversation = usage.conversation is not None
        with self._lock:
            existing = self._pending.get(key)
            if existing is None:
                self._pending[key] = counts
            else:
                existing.merge(counts)
            self._added += 1
            return self._added

    @property
    def pending(self) -> int:
        """Buckets not yet written."""
        with self._lock:
            return len(self._pending)

    def _take(self) -> tuple[dict[BucketKey, BucketCounts], int]:
        """Everything pending, and the number of the last call it holds."""
        with self._lock:
            batch, self._pending = self._pending, {}
            return batch, self._added

    def _put_back(self, batch: dict[BucketKey, BucketCounts]) -> None:
        with self._lock:
            for key, counts in batch.items():
                existing = self._pending.get(key)
                if existing is None:
                    self._pending[key] = counts
                else:
                    existing.merge(counts)

    def _write(self, batch: dict[BucketKey, BucketCounts]) -> dict[BucketKey, BucketCounts]:
        """Write a batch (blocking); what could not be written, each bucket tried alone.

        One bucket that cannot be written never holds up the others: after the batch fails,
        every bucket is written on its own, and only those that fail again stay pending.
        """
        try:
            self._writer(batch)
            return {}
        except Exception as exc:
            if len(batch) == 1:
                logger.error("cannot write one usage bucket (kept for the next try): %s",
                             type(exc).__name__)
                return batch
        failed: dict[BucketKey, BucketCounts] = {}
        for key, counts in batch.items():
            try:
                self._writer({key: counts})
            except Exception as exc:
                failed[key] = counts
                logger.error("cannot write a usage bucket of %s (kept, retried alone): %s",
                             key.ai_llm_id, type(exc).__name__)
        return failed

    async def flush(self, *, through: int = 0) -> None:
        """Write everything pending (in a thread); what fails stays pending, retried alone.

        ``through`` a call's number: nothing to do if a flush that ended meanwhile wrote it.
        """
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        async with self._flush_lock:
            if through and self.written >= through:
                return
            batch, last = self._take()
            if not batch:  # no flush runs but this one: everything added is written
                self.written = max(self.written, last)
                return
            write = asyncio.ensure_future(asyncio.to_thread(self._write, batch))
            try:
                failed = await asyncio.shield(write)
            except asyncio.CancelledError:
                # The thread cannot be stopped: learn what its write committed before
                # deciding what is still pending (never count anything twice).
                try:
                    self._put_back(await write)
                except Exception:
                    self._put_back(batch)
                raise
            except Exception:
                self._put_back(batch)
                raise
            if failed:
                self._put_back(failed)
            else:
                self.written = max(self.written, last)

    def flush_sync(self) -> None:
        """Write everything pending from the calling thread (last resort at shutdown)."""
        batch, _ = self._take()
        if batch:
            self._put_back(self._write(batch))

    async def run_periodic(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every ``interval`` seconds until cancelled (failures are logged, retried)."""
        await flush_periodically(self.flush, interval, "gateway usage")


async def flush_periodically(flush: Callable[[], Awaitable[None]], interval: float,
                             what: str) -> None:
    """Call ``flush`` every ``interval`` seconds until cancelled; a failure is logged (what
    failed stays pending with the writer) and the next round tries again."""
    while True:
        await asyncio.sleep(interval)
        try:
            await flush()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.error("cannot write %s (kept for the next try): %s", what,
                         type(exc).__name__)

