"""Policy validate and recommend, locally: lint a policy's content, and a catalogue of rules.

:func:`lint` scores a content 0-100 (higher is better) with concrete issues, whose ``type``
is one of the names the platform's client lists (ambiguity, verbosity, clarity, scope,
actionability). :func:`recommend` picks enforceable rules from :data:`CATALOGUE` by the words
of a use case; no model is called. Nothing here touches the database or the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flashback_tui.server.policies import (
    MAX_PATTERN_LENGTH,
    REGEX_PREFIX,
    PolicyRuleError,
    compile_rule,
    keywords_of,
    rule_kind,
)

#: Texts a rule that "matches everything" would match, and one it should never match.
_PROBES = ("", "hello", "The quick brown fox jumps over the lazy dog. 42")
_VERBOSE_CHARS = 1000


@dataclass(frozen=True)
class Issue:
    """One problem of a content, with what to do about it."""

    type: str
    description: str
    suggestion: str


@dataclass
class Lint:
    """The verdict on one content."""

    score: int = 100
    issues: list[Issue] = field(default_factory=list)

    def add(self, penalty: int, issue: Issue) -> None:
        """Record an issue and lower the score."""
        self.score = max(0, self.score - penalty)
        self.issues.append(issue)

    @property
    def severity(self) -> str:
        """none (no issue), low, medium or high, by score."""
        if not self.issues:
            return "none"
        return "low" if self.score >= 75 else "medium" if self.score >= 40 else "high"

    @property
    def advice(self) -> str:
        """One sentence summing the verdict up."""
        if not self.issues:
            return "The rule is enforced by the local gateway and looks precise."
        return " ".join(i.suggestion for i in self.issues[:2])


def lint(content: str) -> Lint:
    """Score and issues of one policy content."""
    result = Lint()
    text = content.strip()
    if not text:
        result.add(100, Issue("clarity", "The content is empty.",
                              "Give comma-separated keywords or 're:<regular expression>'."))
        return result
    if len(text) > _VERBOSE_CHARS:
        result.add(15, Issue("verbosity", f"The content is {len(text)} characters long.",
                             "Keep a policy to one short rule; split long texts."))
    kind = rule_kind(text)
    if kind == "text":
        result.add(50, Issue(
            "actionability", "This is natural language: the local platform stores it but does"
            " not enforce it.", "Write it as comma-separated keywords (e.g. 'password, api"
            " key') or as 're:<regular expression>' so the gateway can enforce it."))
        return result
    try:
        pattern = compile_rule(text)
    except PolicyRuleError as exc:
        result.add(80, Issue("clarity", str(exc).removeprefix("content: ").capitalize() + ".",
                             "Fix the rule so it compiles; until then it cannot be saved."))
        return result
    assert pattern is not None
    if any(pattern.search(probe) for probe in _PROBES):
        result.add(70, Issue("scope", "The rule matches every prompt (even an empty one).",
                             "Remove empty alternatives and catch-alls like '.*'; match only"
                             " what must be caught."))
    elif kind == "regex" and _matches_nothing(text[len(REGEX_PREFIX):]):
        result.add(60, Issue("scope", "The regular expression can never match.",
                             "Check anchors and character classes so real prompts can match."))
    if kind == "keywords":
        short = [w for w in keywords_of(text) if len(w) <= 2]
        if short:
            result.add(25, Issue("ambiguity", f"Keywords of 1-2 characters ({', '.join(short)})"
                                 " match far too many prompts.",
                                 "Use longer, specific keywords or a regular expression."))
    return result


def _matches_nothing(pattern: str) -> bool:
    """True for shapes that can never match, like ``a^`` or ``$a`` or ``[^\\s\\S]``."""
    return bool(re.search(r"[^\\\[(|]\^|\$[^)|$]|\[\^\\s\\S\]|\[\^\\S\\s\]", pattern))


@dataclass(frozen=True)
class CatalogueRule:
    """A recommended, enforceable rule, with a sample it matches and a text it must not."""

    topics: frozenset[str]
    content: str
    risk_type: str
    alert_type: str
    sample: str
    benign: str = "Please summarise the meeting notes from Tuesday."
    default: bool = False


def _rule(topics: str, content: str, risk: str, alert: str, sample: str, *,
          default: bool = False) -> CatalogueRule:
    return CatalogueRule(frozenset(topics.split()), content, risk, alert, sample,
                         default=default)


CATALOGUE: tuple[CatalogueRule, ...] = (
    _rule("code dev developer engineering security credentials keys secrets",
          r"re:\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}", "high", "block",
          "my key is sk-proj-abcdefghijklmnopqrstuvwx", default=True),
    _rule("code dev developer engineering security cloud aws credentials keys",
          r"re:\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "high", "block",
          "aws id AKIAIOSFODNN7EXAMPLE here", default=True),
    _rule("code dev developer engineering security github credentials keys",
          r"re:\bgh[pousr]_[A-Za-z0-9]{36}\b", "high", "block",
          "token ghp_" + "a1B2" * 9, default=True),
    _rule("code dev developer engineering security credentials keys certificates",
          r"re:-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----", "high", "block",
          "-----BEGIN RSA PRIVATE KEY-----\nMIIE", default=True),
    _rule("security credentials support code passwords",
          "password, passwd, secret key, api key, access token", "medium", "alert",
          "my password is hunter2", default=True),
    _rule("finance payment payments card cards banking retail ecommerce",
          r"re:\b(?:4\d{3}|5[1-5]\d{2}|3[47]\d{2}|6011)(?:[ -]?\d{4}){2}[ -]?\d{1,4}\b",
          "high", "block", "card 4111 1111 1111 1111 exp 12/29"),
    _rule("finance banking payment payments iban europe",
          r"re:\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b", "high", "alert",
          "send it to DE89 3704 0044 0532 0130 00"),
    _rule("health healthcare medical hr pii personal privacy finance identity government",
          r"re:\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b", "high", "block",
          "my SSN is 123-45-6789", default=True),
    _rule("support customer crm marketing sales pii personal privacy health hr",
          r"re:\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", "medium", "log",
          "write to jane.doe@example.com"),
    _rule("support customer crm sales pii personal privacy health hr",
          r"re:(?<!\d)(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)", "medium", "log",
          "call me on +1 415-555-0132"),
    _rule("health healthcare medical clinical patients",
          "diagnosis, medical record, patient id, prescription", "medium", "alert",
          "the patient id is in the medical record"),
)


def _topic_words(prompt: str) -> set[str]:
    words = {w.casefold() for w in re.findall(r"[A-Za-z]+", prompt)}
    return words | {w.rstrip("s") for w in words}


def recommend(prompt: str) -> list[CatalogueRule]:
    """Catalogue rules for a use case: those whose topics its words name, else the defaults
    (the defaults are always included, so the answer is never empty)."""
    words = _topic_words(prompt)
    chosen = [r for r in CATALOGUE if r.default or r.topics & words]
    return chosen


def check_catalogue() -> list[str]:
    """Problems with the catalogue (empty when every rule compiles, is short enough, matches
    its sample and not its benign text): used by the tests."""
    problems = []
    for rule in CATALOGUE:
        try:
            pattern = compile_rule(rule.content)
        except PolicyRuleError as exc:
            problems.append(f"{rule.content}: {exc}")
            continue
        if pattern is None or len(rule.content) > MAX_PATTERN_LENGTH:
            problems.append(f"{rule.content}: not an enforceable rule")
        elif not pattern.search(rule.sample) or pattern.search(rule.benign):
            problems.append(f"{rule.content}: sample/benign check failed")
    return problems
