"""Failed sign-ins slow an attacker down: a lockout per (email, client address).

After ``max_failures`` failed sign-ins for one email from one address within ``WINDOW``
seconds, that pair is refused for ``lockout`` seconds, doubled by each failure after that
(up to ``MAX_LOCKOUT``), without the password even being checked. A success clears the pair.
Keying on the pair rather than the email alone means a stranger cannot lock a user out from
elsewhere.

The failures live in the database (``login_failures``), so every replica serving one
database sees the same count and the same lockout, and a restart forgets nothing. Times are
wall-clock milliseconds (every replica reads the same time; a monotonic clock is one
process's own). Each failure is counted in a write transaction, so failures sent to several
replicas at once are all counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flashback_tui.server.sql import Conn, transaction

#: Failures older than this no longer count.
WINDOW = 15 * 60.0
#: The longest a pair is locked out.
MAX_LOCKOUT = 15 * 60.0
#: Pairs remembered at most (the stalest are forgotten first).
MAX_ENTRIES = 10_000


class LoginThrottle:
    """Counts failed sign-ins per (email, address) and says when a pair must wait.

    ``conn`` gives the calling thread's database connection; ``clock`` the wall-clock time
    in seconds (injectable: a test moves it by hand).
    """

    def __init__(self, conn: Callable[[], Conn], max_failures: int = 5, lockout: float = 30.0,
                 clock: Callable[[], float] = time.time, max_entries: int = MAX_ENTRIES
                 ) -> None:
        self.max_failures = max(1, max_failures)
        self.lockout = max(0.0, lockout)
        self.max_entries = max(1, max_entries)
        self._conn = conn
        self._clock = clock

    @staticmethod
    def key(email: str, address: str) -> tuple[str, str]:
        """The pair a sign-in attempt is counted under."""
        return email.strip().lower(), address

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def wait_seconds(self, key: tuple[str, str]) -> float:
        """Seconds this pair must still wait before its next attempt (0 when it may try)."""
        row = self._conn().execute(
            "SELECT locked_until_ms FROM login_failures WHERE email = ? AND address = ?",
            key).fetchone()
        if row is None:
            return 0.0
        return max(0.0, (row[0] - self._now_ms()) / 1000)

    def failed(self, key: tuple[str, str]) -> None:
        """Count a failed attempt; lock the pair once it has failed too often."""
        now = self._now_ms()
        conn = self._conn()
        with transaction(conn):
            row = conn.execute(
                "SELECT failures, first_at_ms, locked_until_ms FROM login_failures"
                " WHERE email = ? AND address = ?", key).fetchone()
            if row is None or now - row[1] > WINDOW * 1000:
                if row is None:
                    self._make_room(conn, now)
                failures, first_at, locked_until = 0, now, 0
            else:
                failures, first_at, locked_until = row
            failures += 1
            beyond = failures - self.max_failures
            if beyond >= 0:
                locked_until = now + int(min(MAX_LOCKOUT, self.lockout * 2 ** beyond) * 1000)
            conn.execute(
                "INSERT INTO login_failures (email, address, failures, first_at_ms,"
                " locked_until_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (email, address)"
                " DO UPDATE SET failures = excluded.failures,"
                " first_at_ms = excluded.first_at_ms,"
                " locked_until_ms = excluded.locked_until_ms",
                (*key, failures, first_at, locked_until))

    def succeeded(self, key: tuple[str, str]) -> None:
        """Forget the pair's failures."""
        conn = self._conn()
        with transaction(conn):
            conn.execute("DELETE FROM login_failures WHERE email = ? AND address = ?", key)

    def _make_room(self, conn: Conn, now: int) -> None:
        """Before a new pair is added: forget pairs whose window and lockout are both over,
        and, if as many pairs as allowed are still remembered, the stalest."""
        conn.execute("DELETE FROM login_failures WHERE first_at_ms < ? AND locked_until_ms < ?",
                     (now - int(WINDOW * 1000), now))
        count = conn.execute("SELECT COUNT(*) FROM login_failures").fetchone()[0]
        if count >= self.max_entries:
            conn.execute(
                "DELETE FROM login_failures WHERE (email, address) IN (SELECT email, address"
                " FROM login_failures ORDER BY first_at_ms LIMIT ?)",
                (count - self.max_entries + 1,))
