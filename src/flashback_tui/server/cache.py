"""A small cache of serialized answers, keyed by caller and query, valid for one data version.

Every write to the tables a cached answer is built from bumps a counter (SQLite triggers,
so writes by the ``admin`` commands or the gateway in other processes count too). An answer is
stored with the counter value read in the same snapshot as its data, and served only while
the counter still has that value; a TUI polling an unchanged list every few seconds then
costs one indexed read instead of rebuilding a thousand rows. Each answer carries an ETag (a
digest of its bytes, computed once when it is built), so a client that already holds those
bytes gets ``304 Not Modified`` and skips the download and the parsing too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import to_json

#: Most answers kept (one per caller and query); the least recently used goes first.
MAX_ENTRIES = 64
#: Most bytes kept over all answers (a list of 1,000 configurations is about 0.5 MB).
MAX_BYTES = 16 * 1024 * 1024


class Answer(NamedTuple):
    """A serialized answer and its ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Answer:
        """The answer for ``body``, its strong ETag a digest of the bytes."""
        return cls(body, f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"')


class AnswerCache:
    """Thread-safe LRU map from a key to ``(data version, answer)``, bounded in size."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._entries: OrderedDict[Hashable, tuple[Hashable, Answer]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable) -> Answer | None:
        """The answer stored for ``key`` at ``version``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, version: Hashable, answer: Answer) -> None:
        """Store an answer built from data at ``version``."""
        if len(answer.body) > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.size -= len(previous[1].body)
            self._entries[key] = (version, answer)
            self.size += len(answer.body)
            while len(self._entries) > self.max_entries or self.size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= len(dropped.body)

    def get_or_build(self, key: Hashable, version: Hashable,
                     build: Callable[[], bytes]) -> Answer:
        """The cached answer, or ``build()`` stored under ``version``."""
        answer = self.get(key, version)
        if answer is None:
            answer = Answer.of(build())
            self.put(key, version, answer)
        return answer


class ItemJsonCache:
    """The JSON of single list items, keyed by their full content.

    After a change only the rows that differ are serialized again; the rest of a list answer
    is spliced together from stored bytes. The key of an item is the item itself (a hashable
    store record) with the function that turns it into wire data, so a stored fragment can
    never be stale. Items are serialized
    straight from their wire data by pydantic-core, without building models first (a third
    of the cost); the tests prove the bytes equal those of the validated models.
    """

    def __init__(self, max_entries: int = 5_000) -> None:
        self.max_entries = max_entries
        self._fragments: dict[Hashable, bytes] = {}

    def render(self, envelope: BaseModel, field: str, records: Sequence[Hashable],
               to_wire: Callable[[Any], dict[str, Any]]) -> bytes:
        """``envelope`` as JSON with ``records`` as its (empty in ``envelope``) list ``field``.

        ``field`` is the list's wire name and ``to_wire`` turns one record into its wire data;
        the bytes equal ``model_dump_json(by_alias=True)`` of the envelope holding the
        validated records.
        """
        keys = [(to_wire, r) for r in records]
        fragments: list[bytes | None] = [self._fragments.get(k) for k in keys]
        missing = [i for i, fragment in enumerate(fragments) if fragment is None]
        if missing:
            if len(self._fragments) + len(missing) > self.max_entries:
                self._fragments = {}  # rare: many distinct versions seen; start over
            for i in missing:
                fragment = to_json(to_wire(records[i]))
                self._fragments[keys[i]] = fragment
                fragments[i] = fragment
        empty = f'"{field}":[]'.encode()
        shell = envelope.model_dump_json(by_alias=True).encode()
        if shell.count(empty) != 1:
            raise ValueError(f"the envelope must hold an empty {field!r} list exactly once")
        items = b",".join(f for f in fragments if f is not None)
        return shell.replace(empty, b'"' + field.encode() + b'":[' + items + b"]")
