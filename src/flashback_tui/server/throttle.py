"""Failed sign-ins slow an attacker down: a lockout per (email, client address).

After ``max_failures`` failed sign-ins for one email from one address within ``WINDOW``
seconds, that pair is refused for ``lockout`` seconds, doubled by each failure after that
(up to ``MAX_LOCKOUT``), without the password even being checked. A success clears the pair.
Keying on the pair rather than the email alone means a stranger cannot lock a user out from
elsewhere. State is in memory: a restart forgets it, which costs an attacker a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Failures older than this no longer count.
WINDOW = 15 * 60.0
#: The longest a pair is locked out.
MAX_LOCKOUT = 15 * 60.0
#: Pairs remembered at most (the stalest are forgotten first).
MAX_ENTRIES = 10_000


@dataclass
class _Record:
    failures: int
    first_at: float
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed sign-ins per (email, address) and says when a pair must wait.

    Thread-safe: the sign-in route runs in the threadpool.
    """

    def __init__(self, max_failures: int = 5, lockout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max(1, max_failures)
        self.lockout = max(0.0, lockout)
        self._clock = clock
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(email: str, address: str) -> tuple[str, str]:
        """The pair a sign-in attempt is counted under."""
        return email.strip().lower(), address

    def wait_seconds(self, key: tuple[str, str]) -> float:
        """Seconds this pair must still wait before its next attempt (0 when it may try)."""
        with self._lock:
            record = self._records.get(key)
            if record is None:
                return 0.0
            return max(0.0, record.locked_until - self._clock())

    def failed(self, key: tuple[str, str]) -> None:
        """Count a failed attempt; lock the pair once it has failed too often."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is None or now - record.first_at > WINDOW:
                self._forget_stalest_if_full()
                record = self._records[key] = _Record(failures=0, first_at=now)
            record.failures += 1
            beyond = record.failures - self.max_failures
            if beyond >= 0:
                record.locked_until = now + min(MAX_LOCKOUT, self.lockout * 2 ** beyond)

    def succeeded(self, key: tuple[str, str]) -> None:
        """Forget the pair's failures."""
        with self._lock:
            self._records.pop(key, None)

    def _forget_stalest_if_full(self) -> None:
        if len(self._records) >= MAX_ENTRIES:
            stalest = min(self._records, key=lambda k: self._records[k].first_at)
            del self._records[stalest]
