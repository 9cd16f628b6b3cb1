"""What is sealed under which master key: the counts ``admin key status`` shows and the
check that no value still needs a key about to be retired."""

from __future__ import annotations

from collections import Counter

from flashback_tui.server.sql import Conn


def counts_by_key(conn: Conn) -> Counter[str]:
    """How many sealed values (configuration keys and secrets) each key id seals."""
    counts: Counter[str] = Counter()
    for kid, n in conn.execute(
        "SELECT kid, COUNT(*) FROM (SELECT key_kid AS kid FROM ai_llms WHERE key_kid IS NOT NULL"
        " UNION ALL SELECT secret_kid FROM ai_llms WHERE secret_kid IS NOT NULL) sealed"
        " GROUP BY kid"
    ):
        counts[kid] = n
    return counts
