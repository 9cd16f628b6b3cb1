"""Secret scrubbing: provider text without the keys and secrets it may echo.

Probes and the gateway quote what providers answer; careless providers repeat the
credentials they received, in full or partly masked. :class:`Scrubber` removes both.
"""

from __future__ import annotations

#: Longest provider error text quoted in a message.
MAX_DETAIL_CHARS = 160
#: A run of this many characters of a secret marks a word as a (partial) echo of it.
ECHO_WINDOW = 8
REDACTED = "[redacted]"


class Scrubber:
    """Removes secrets, and words that look like partial echoes of them, from provider text."""

    def __init__(self, values: list[str | None]) -> None:
        self._values = sorted({v for v in values if v}, key=len, reverse=True)
        self._windows = {
            v[i : i + ECHO_WINDOW]
            for v in self._values
            if len(v) >= ECHO_WINDOW
            for i in range(len(v) - ECHO_WINDOW + 1)
        }

    def scrub(self, text: str) -> str:
        """``text`` without any secret, shortened to MAX_DETAIL_CHARS."""
        for value in self._values:
            text = text.replace(value, REDACTED)
        words = [self._scrub_word(word) for word in text.split()]
        text = " ".join(words)
        if len(text) > MAX_DETAIL_CHARS:
            text = text[: MAX_DETAIL_CHARS - 3].rstrip() + "..."
        return text

    def _scrub_word(self, word: str) -> str:
        if any(
            word[i : i + ECHO_WINDOW] in self._windows for i in range(len(word) - ECHO_WINDOW + 1)
        ):
            return REDACTED
        return word
