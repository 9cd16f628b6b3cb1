"""A small cache of serialized answers, keyed by caller and query, valid for one data version.

Every write to the tables a cached answer is built from bumps a counter (SQLite triggers,
so writes by the ``admin`` commands or the gateway in other processes count too). An answer is
stored with the counter value read in the same snapshot as its data, and served only while
the counter still has that value; a TUI polling an unchanged list every few seconds then
costs one indexed read instead of rebuilding a thousand rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

#: Most answers kept (one per caller and query); the oldest is dropped first.
MAX_ENTRIES = 64


class AnswerCache:
    """Thread-safe LRU map from a key to ``(data version, JSON bytes)``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable) -> bytes | None:
        """The answer stored for ``key`` at ``version``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, version: Hashable, body: bytes) -> None:
        """Store an answer built from data at ``version``."""
        with self._lock:
            self._entries[key] = (version, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_build(self, key: Hashable, version: Hashable, build: Callable[[], bytes]) -> bytes:
        """The cached answer, or ``build()`` stored under ``version``."""
        body = self.get(key, version)
        if body is None:
            body = build()
            self.put(key, version, body)
        return body
