"""The field-error convention shared by the platform, the client, the TUI and the CLI.

A 400 about one field says so in front: ``"name: a configuration named 'x' already exists"``.
:func:`field_message` writes that form, :func:`split_field_message` reads it back (also from
the platform's older wordings), and :func:`plain_reason` turns a pydantic error into words a
person understands ("too long: at most 255 characters", never "String should have ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: Wire and form names of a configuration's fields -> the one name the UI uses.
FIELD_ALIASES = {
    "name": "name",
    "aitype": "ai_type",
    "ai_type": "ai_type",
    "provider": "ai_type",
    "endpoint": "endpoint",
    "key": "key",
    "secret": "secret",
    "workspaceid": "workspace",
    "workspace_id": "workspace",
    "workspace": "workspace",
}
#: What each field is called in a sentence.
FIELD_LABELS = {"name": "Name", "ai_type": "Provider", "endpoint": "Endpoint", "key": "Key",
                "secret": "Secret", "workspace": "Workspace"}

_LEADING_FIELD = re.compile(r"^\s*([A-Za-z_][A-Za-z_.]*)\s*:\s*")


def field_message(field: str, reason: str) -> str:
    """``field: reason``: the one form of a message about one field."""
    return f"{field}: {reason}"


def split_field_message(message: str) -> tuple[str | None, str]:
    """``(field, reason)`` of a message; field None when it names no known field.

    Reads ``"name: ..."`` first, then a field named in the words, then "already exists"
    (a duplicate name).
    """
    match = _LEADING_FIELD.match(message)
    if match:
        name = match.group(1).rsplit(".", 1)[-1].lower()
        if name in FIELD_ALIASES:
            return FIELD_ALIASES[name], sentence(message[match.end():].strip() or message)
    words = re.findall(r"[A-Za-z_]+", message.lower())
    for candidate in ("secret", "endpoint", "aitype", "workspaceid", "key", "name"):
        if candidate in words:
            return FIELD_ALIASES[candidate], sentence(message)
    if "already exists" in message.lower():
        return "name", sentence(message)
    return None, sentence(message)


def sentence(text: str) -> str:
    """``text`` with its first letter upper-cased (the rest untouched: a URL stays a URL)."""
    return text[:1].upper() + text[1:]


def plain_reason(error: Mapping[str, Any]) -> str:
    """One pydantic error (``ValidationError.errors()`` item) in plain words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return f"too long: at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "required" if ctx.get("min_length") == 1 else \
            f"too short: at least {ctx.get('min_length')} characters"
    if kind == "missing":
        return "required"
    if kind == "string_pattern_mismatch":
        return "contains characters that are not allowed"
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected")
        return f"must be one of {expected}" if expected else "not one of the allowed values"
    if kind in ("string_type", "int_type", "bool_type", "float_type"):
        return "has the wrong type"
    if kind == "int_parsing":
        return "must be a whole number"
    if kind == "float_parsing":
        return "must be a number"
    if kind == "bool_parsing":
        return "must be on or off: 1, 0, true, false, yes or no"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def named_problem(name: str, error: Mapping[str, Any]) -> str:
    """``FLASHBACK_WORKER_THREADS must be a whole number``: one error, naming what is wrong.

    Reads only the error's kind, context and message, never its input (it may be a secret).
    """
    from flashback_tui.api.errors import plain_words

    reason = plain_reason(error)
    if _adjective(reason):
        return f"{name} is {reason}"
    if reason.startswith(("must ", "has ", "contains ", "not ")):
        return f"{name} {'is ' if reason.startswith('not ') else ''}{reason}"
    return plain_words(f"{name}: {reason}")


def named_problems(exc: Any, name_of: Callable[[tuple[Any, ...]], str]) -> list[str]:
    """Each error of a pydantic ``ValidationError`` as :func:`named_problem` says it, its
    location named by ``name_of`` (the input is never read)."""
    return [named_problem(name_of(tuple(error["loc"])), error)
            for error in exc.errors(include_input=False, include_url=False)]


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[tuple[str | None, str]]:
    """``(field, sentence)`` per pydantic error: ``("name", "Name is too long: ...")``."""
    problems = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        field = FIELD_ALIASES.get(loc[-1].lower()) if loc else None
        reason = plain_reason(error)
        label = FIELD_LABELS.get(field or "", "")
        problems.append((field, f"{label} is {reason}" if label and _adjective(reason)
                         else sentence(reason)))
    return problems


def _adjective(reason: str) -> bool:
    return reason.startswith(("too ", "required"))
