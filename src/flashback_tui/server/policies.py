"""Policy rules: how ``content`` is read, checked at save time, and evaluated.

A policy's ``content`` is one of three kinds (:func:`rule_kind`):

``re:<pattern>``
    A Python regular expression, matched case-insensitively anywhere in the prompt, e.g.
    ``re:\\b\\d{3}-\\d{2}-\\d{4}\\b``. An invalid pattern, one longer than
    ``MAX_PATTERN_LENGTH``, or one with a nested unbounded repetition such as ``(a+)+`` or
    ``(\\w+\\s?)*`` (the shape behind catastrophic backtracking) is refused with a 400.
keywords
    Comma-separated keywords or short phrases (at most ``MAX_KEYWORD_WORDS`` words each, no
    sentence punctuation), matched case-insensitively as whole words: ``password, secret
    key`` matches "my Password is" and "the SECRET KEY", not "passwords".
text
    Anything else is natural language, as on the hosted platform: stored and listed, but not
    enforced locally.

``actionType`` 0 records a violation, 1 also raises an alert, 2 also blocks. Every matching
policy is one violation with its ``riskType`` severity; :meth:`CompiledPolicy.explain` names
the rule that matched (never the prompt text). Nothing here touches the database or the
network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from flashback_tui.api.models import PolicyAction

REGEX_PREFIX = "re:"
MAX_PATTERN_LENGTH = 500
MAX_KEYWORDS = 200
#: A comma-separated part with more words than this is prose, not a keyword.
MAX_KEYWORD_WORDS = 4
#: A bounded repetition above this count is treated like an unbounded one.
_LARGE_REPEAT = 100
#: Characters a keyword may hold; sentence punctuation (. ! ? ; : quotes) makes it prose.
_KEYWORD = re.compile(r"[\w@#$%&*+/=<>~^|\\\[\](){}'-]+(?: [\w@#$%&*+/=<>~^|\\\[\](){}'-]+)*")

RuleKind = Literal["regex", "keywords", "text"]


class PolicyRuleError(ValueError):
    """A rule that cannot be used; the message starts with ``content:``."""


def keywords_of(content: str) -> list[str]:
    """The distinct comma-separated parts of ``content``, whitespace collapsed."""
    words = [" ".join(part.split()) for part in content.split(",")]
    return [w for w in dict.fromkeys(words) if w]


def rule_kind(content: str) -> RuleKind:
    """Whether ``content`` is a regular expression, a keyword list or natural language."""
    content = content.strip()
    if content.startswith(REGEX_PREFIX):
        return "regex"
    words = keywords_of(content)
    if words and all(len(w.split(" ")) <= MAX_KEYWORD_WORDS and _KEYWORD.fullmatch(w)
                     for w in words):
        return "keywords"
    return "text"


def compile_rule(content: str) -> re.Pattern[str] | None:
    """The compiled pattern of a rule, None for natural language (not enforced), or
    :class:`PolicyRuleError` saying why a rule cannot be used."""
    content = content.strip()
    if not keywords_of(content):
        raise PolicyRuleError("content: give keywords separated by commas, 're:<regex>' or"
                              " a policy text")
    kind = rule_kind(content)
    if kind == "regex":
        return _compile_regex(content[len(REGEX_PREFIX):])
    if kind == "keywords":
        return _compile_keywords(keywords_of(content))
    return None


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
    if has_nested_repeat(pattern):
        raise PolicyRuleError(
            "content: the regular expression nests unbounded repetitions (like (a+)+), which"
            " can take exponential time; rewrite it without a repeated group of repeats")
    return compiled


def _compile_keywords(words: list[str]) -> re.Pattern[str]:
    if len(words) > MAX_KEYWORDS:
        raise PolicyRuleError(f"content: at most {MAX_KEYWORDS} keywords")
    # Whole words: not preceded or followed by a word character. Inner spaces match any run
    # of whitespace, so "secret key" also matches "secret\n key".
    alternatives = "|".join(r"\s+".join(re.escape(p) for p in w.split(" ")) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def has_nested_repeat(pattern: str) -> bool:
    """True if a pattern (known to compile) nests an unbounded repetition in another."""
    return _nested(_parse(pattern))


def _parse(pattern: str) -> list[tuple[object, object]]:
    """The parse tree of a pattern that is already known to compile."""
    try:
        from re import _parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover - older interpreters
        import sre_parse  # type: ignore[no-redef]
    return list(sre_parse.parse(pattern))


def _nested(items: Iterable[tuple[object, object]], inside: bool = False) -> bool:
    """True if an unbounded (or very large) repetition sits inside another one."""
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, sub = arg  # type: ignore[misc]
            unbounded = high > _LARGE_REPEAT
            if (inside and unbounded) or _nested(sub, inside or unbounded):
                return True
        elif name == "SUBPATTERN":
            if _nested(arg[-1], inside):  # type: ignore[index]
                return True
        elif name == "BRANCH":
            if any(_nested(alt, inside) for alt in arg[1]):  # type: ignore[index]
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _nested(arg[1], inside):  # type: ignore[index]
                return True
        elif name == "ATOMIC_GROUP" and _nested(arg, inside):  # type: ignore[arg-type]
            return True
    return False


@dataclass(frozen=True)
class CompiledPolicy:
    """An enforced policy ready to evaluate, with its scope."""

    id: str
    name: str
    risk_type: str
    action_type: int
    pattern: re.Pattern[str]
    content: str = ""
    workspace_id: str | None = None
    repo_id: str | None = None

    def applies_to(self, workspace_id: str, repo_id: str) -> bool:
        """Org-wide, or the request's workspace, or the request's repository."""
        if self.repo_id is not None:
            return self.repo_id == repo_id
        return self.workspace_id is None or self.workspace_id == workspace_id

    def explain(self, match: re.Match[str]) -> str:
        """Which rule of this policy matched, in words; never the matched text itself."""
        content = self.content.strip()
        if content.startswith(REGEX_PREFIX):
            return f'matched pattern "{content}" of policy "{self.name}"'
        found = " ".join(match.group(0).split()).casefold()
        keyword = next((w for w in keywords_of(content) if w.casefold() == found), None)
        if keyword is None:
            return f'matched a keyword of policy "{self.name}"'
        return f'matched keyword "{keyword}" of policy "{self.name}"'


@dataclass(frozen=True)
class Match:
    """One policy that matched a prompt, with the explanation of why."""

    policy: CompiledPolicy
    explanation: str

    @property
    def alerts(self) -> bool:
        """Alert (1) and block (2) raise an alert; log (0) does not."""
        return self.policy.action_type >= PolicyAction.ALERT

    @property
    def blocks(self) -> bool:
        """Block (2) refuses the request."""
        return self.policy.action_type == PolicyAction.BLOCK


@dataclass
class Verdict:
    """What the applicable policies say about one prompt."""

    matches: list[Match] = field(default_factory=list)

    @property
    def matched(self) -> list[CompiledPolicy]:
        """The policies that matched."""
        return [m.policy for m in self.matches]

    @property
    def blocked(self) -> bool:
        """True when any matching policy blocks."""
        return any(m.blocks for m in self.matches)

    @property
    def blocking_policy(self) -> CompiledPolicy | None:
        """The first blocking policy that matched, if any."""
        return next((m.policy for m in self.matches if m.blocks), None)

    @property
    def violations(self) -> int:
        """One per matching policy."""
        return len(self.matches)

    @property
    def alerts(self) -> int:
        """Matching policies that alert (action alert or block)."""
        return sum(1 for m in self.matches if m.alerts)

    def severity(self, risk_type: str) -> int:
        """Matching policies of one risk type (LOW, MEDIUM or HIGH)."""
        return sum(1 for m in self.matches if m.policy.risk_type == risk_type)


def evaluate(policies: Iterable[CompiledPolicy], text: str) -> Verdict:
    """Check ``text`` against every policy."""
    verdict = Verdict()
    for policy in policies:
        found = policy.pattern.search(text)
        if found is not None:
            verdict.matches.append(Match(policy, policy.explain(found)))
    return verdict
