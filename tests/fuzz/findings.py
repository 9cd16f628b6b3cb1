"""What a fuzz run found: tallies per operation, findings grouped by cause, a text report.

A :class:`Finding` is one failed check on one answer, with the request that produced it. Its
*cause* is a short, stable name (``status not documented``, ``refused: name: must not be
null``, ``accepted: `type` at /properties/max_tokens``) so that a hundred cases of one fault
make one group; :meth:`Report.render` prints each group once, with its shortest case as the
reproduction.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SERVER_ERROR = "server error"
CONTRADICTION = "contradicts the schema"
ACCEPTED = "accepted invalid data"
REFUSED = "refused valid data"
TRANSPORT = "no answer"
KINDS = (SERVER_ERROR, CONTRADICTION, ACCEPTED, REFUSED, TRANSPORT)
_COLUMNS = ("5xx", "lies", "acc", "ref", "none")

GroupKey = tuple[str, str, str, "int | None"]


@dataclass
class Finding:
    """One failed check: where, why, and the request that showed it."""

    operation: str
    kind: str
    cause: str
    status: int | None
    mode: str
    method: str
    path: str
    query: dict[str, Any]
    body: Any
    detail: str

    @property
    def key(self) -> GroupKey:
        """What groups findings: operation, kind, cause, status."""
        return (self.operation, self.kind, self.cause, self.status)

    def reproduction(self) -> str:
        """``METHOD path?query body -> status``, on one line."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        body = "" if self.body is None else " " + json.dumps(self.body, default=str)
        target = self.path + (f"?{query}" if query else "")
        return f"{self.method} {target}{body} -> {self.status}"


@dataclass
class Tally:
    """What one operation's cases came to."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The whole run: per-operation tallies and every finding."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        """Requests sent in all."""
        return sum(t.requests for t in self.tallies.values())

    def count(self, kind: str) -> int:
        """Answers with at least one failure of ``kind``, over all operations."""
        return sum(t.failures[kind] for t in self.tallies.values())

    def grouped(self, kind: str | None = None) -> dict[GroupKey, list[Finding]]:
        """Findings (of one kind, or all) grouped by operation, kind, cause and status."""
        groups: dict[GroupKey, list[Finding]] = {}
        for finding in self.findings:
            if kind is None or finding.kind == kind:
                groups.setdefault(finding.key, []).append(finding)
        return groups

    def render_groups(self, kind: str | None = None) -> str:
        """Each group once: its cause, how many cases, the shortest reproduction, the detail."""
        lines = []
        for (operation, found_kind, cause, status), found in self.grouped(kind).items():
            shortest = min(found, key=lambda f: len(f.reproduction()))
            lines.append(f"[{operation}] {found_kind}: {cause} (status {status}, "
                         f"{len(found)} cases, {shortest.mode})")
            lines.append(f"    {short(shortest.reproduction(), 400)}")
            lines.append(f"    {short(shortest.detail, 400)}")
        return "\n".join(lines)

    def render(self) -> str:
        """A plain-text summary: the table per operation, then the grouped failures."""
        lines = [f"schemathesis: {self.requests} requests over {len(self.tallies)} operations "
                 f"in {self.seconds:.1f}s; " + ", ".join(f"{self.count(k)} {k}" for k in KINDS),
                 f"{'operation':<48} {'reqs':>5} " + " ".join(f"{c:>4}" for c in _COLUMNS)
                 + "  statuses"]
        for label, tally in self.tallies.items():
            statuses = " ".join(f"{s}x{n}" for s, n in sorted(tally.statuses.items()))
            counts = " ".join(f"{tally.failures[k]:>4}" for k in KINDS)
            lines.append(f"{label:<48} {tally.requests:>5} {counts}  {statuses}")
            lines.extend(f"{'':<8}generation stopped early ({note})" for note in tally.notes)
        return "\n".join([*lines, "", self.render_groups()])


def causes_of(failure: Any, response: Any) -> list[str]:
    """Short, stable names for why a check failed; a refusal or an acceptance of several
    fields at once has one per field."""
    name = type(failure).__name__
    if name == "RejectedPositiveData":
        return [f"refused: {short(clause, 160)}" for clause in server_message(response).split("; ")]
    if name == "AcceptedNegativeData":
        _, _, component = failure.message.partition("Invalid component:")
        violations = re.findall(r"violates `([^`]+)` at (\S+)", component)
        if violations:
            return [f"accepted: `{keyword}` at {where}" for keyword, where in violations]
        return ["accepted: " + (short(re.sub(r"\(.*?\)", "", component), 160) or "invalid data")]
    if name == "JsonSchemaError":
        where = "/".join("*" if isinstance(p, int) else str(p) for p in failure.instance_path)
        keyword = next((str(p) for p in reversed(failure.schema_path) if not isinstance(p, int)),
                       "schema")
        return [f"response schema: /{where} fails {keyword!r}"]
    if name == "UndefinedStatusCode":
        return ["status not documented"]
    return [f"{name}: {failure.title}"]


def server_message(response: Any) -> str:
    """The error message of an answer, ids and quoted values blurred (for grouping)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return short(response.text, 160)
    if isinstance(body, dict):
        error = body.get("error")
        text = (body.get("message") or body.get("error_message")
                or (error.get("message") if isinstance(error, dict) else error) or "")
        return " ".join(re.sub(r"'[^']*'|\"[^\"]*\"|[0-9a-f-]{36}", "…", str(text)).split())
    return short(response.text, 160)


def short(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
