"""Workspace policy rules: how ``content`` is read, checked at save time, and evaluated.

A policy's ``content`` is one of two kinds of rule:

``re:<pattern>``
    A Python regular expression, matched case-insensitively anywhere in the prompt, e.g.
    ``re:\\b\\d{3}-\\d{2}-\\d{4}\\b``. Patterns are compiled when the policy is saved; an
    invalid pattern, one longer than ``MAX_PATTERN_LENGTH``, or one with a nested unbounded
    repetition such as ``(a+)+`` or ``(\\w+\\s?)*`` (the shape behind catastrophic
    backtracking) is refused with a 400.
anything else
    Comma-separated keywords or phrases, matched case-insensitively as whole words:
    ``password, secret key`` matches "my Password is" and "the SECRET KEY", not "passwords".

``actionType`` 1 (alert) lets a matching prompt through and counts an alert; 2 (block)
refuses it. Every matching policy counts one violation with its ``riskType`` severity.
Nothing here touches the database or the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flashback_tui.api.models import PolicyAction

REGEX_PREFIX = "re:"
MAX_PATTERN_LENGTH = 500
MAX_KEYWORDS = 200
#: A bounded repetition above this count is treated like an unbounded one.
_LARGE_REPEAT = 100


class PolicyRuleError(ValueError):
    """A rule that cannot be used; the message starts with ``content:``."""


def compile_rule(content: str) -> re.Pattern[str]:
    """The compiled pattern of a rule, or :class:`PolicyRuleError` saying why not."""
    content = content.strip()
    if content.startswith(REGEX_PREFIX):
        return _compile_regex(content[len(REGEX_PREFIX):])
    return _compile_keywords(content)


def _compile_regex(pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise PolicyRuleError("content: the regular expression after 're:' is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PolicyRuleError(
            f"content: the regular expression is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise PolicyRuleError(f"content: invalid regular expression ({exc})") from None
    if _has_nested_repeat(_parse(pattern)):
        raise PolicyRuleError(
            "content: the regular expression nests unbounded repetitions (like (a+)+), which"
            " can take exponential time; rewrite it without a repeated group of repeats")
    return compiled


def _compile_keywords(content: str) -> re.Pattern[str]:
    words = [" ".join(part.split()) for part in content.split(",")]
    words = [w for w in dict.fromkeys(words) if w]
    if not words:
        raise PolicyRuleError("content: give keywords separated by commas, or 're:<regex>'")
    if len(words) > MAX_KEYWORDS:
        raise PolicyRuleError(f"content: at most {MAX_KEYWORDS} keywords")
    # Whole words: not preceded or followed by a word character. Inner spaces match any run
    # of whitespace, so "secret key" also matches "secret\n key".
    alternatives = "|".join(r"\s+".join(re.escape(p) for p in w.split(" ")) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _parse(pattern: str) -> list[tuple[object, object]]:
    """The parse tree of a pattern that is already known to compile."""
    try:
        from re import _parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover - older interpreters
        import sre_parse  # type: ignore[no-redef]
    return list(sre_parse.parse(pattern))


def _has_nested_repeat(items: Iterable[tuple[object, object]], inside: bool = False) -> bool:
    """True if an unbounded (or very large) repetition sits inside another one."""
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg  # type: ignore[misc]
            del low
            unbounded = high > _LARGE_REPEAT
            if inside and unbounded:
                return True
            if _has_nested_repeat(sub, inside or unbounded):
                return True
        elif name == "SUBPATTERN":
            if _has_nested_repeat(arg[-1], inside):  # type: ignore[index]
                return True
        elif name == "BRANCH":
            if any(_has_nested_repeat(alt, inside) for alt in arg[1]):  # type: ignore[index]
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _has_nested_repeat(arg[1], inside):  # type: ignore[index]
                return True
        elif name == "ATOMIC_GROUP":
            if _has_nested_repeat(arg, inside):  # type: ignore[arg-type]
                return True
    return False


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy ready to evaluate."""

    id: str
    name: str
    risk_type: str
    action_type: int
    pattern: re.Pattern[str]


@dataclass
class Verdict:
    """What the policies of a workspace say about one prompt."""

    matched: list[CompiledPolicy] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """True when any matching policy blocks."""
        return any(p.action_type == PolicyAction.BLOCK for p in self.matched)

    @property
    def blocking_policy(self) -> CompiledPolicy | None:
        """The first blocking policy that matched, if any."""
        return next((p for p in self.matched if p.action_type == PolicyAction.BLOCK), None)

    @property
    def violations(self) -> int:
        """One per matching policy."""
        return len(self.matched)

    @property
    def alerts(self) -> int:
        """Matching alert policies."""
        return sum(1 for p in self.matched if p.action_type != PolicyAction.BLOCK)

    def severity(self, risk_type: str) -> int:
        """Matching policies of one risk type (LOW, MEDIUM or HIGH)."""
        return sum(1 for p in self.matched if p.risk_type == risk_type)


def evaluate(policies: Iterable[CompiledPolicy], text: str) -> Verdict:
    """Check ``text`` against every policy."""
    return Verdict([p for p in policies if p.pattern.search(text)])
