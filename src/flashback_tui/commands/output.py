"""Output of the scriptable commands: aligned tables, key/value blocks, JSON and CSV.

Tables measure the terminal width of each cell (wide East Asian characters count two
columns, combining marks none) and replace control characters, so a name with an escape
sequence or a newline cannot garble or hijack the terminal. JSON is the wire shape
(camelCase), indented, keys in a stable order. No dependency beyond the standard library.
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import click

#: What an empty cell shows.
EMPTY = "-"


def clean(value: Any) -> str:
    """A cell's text: ``-`` for None/empty, control characters shown as ``\\xNN`` escapes."""
    if value is None or value == "":
        return EMPTY
    text = str(value)
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide characters 2, combining marks 0)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def render_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Iterable[int] = ()
) -> list[str]:
    """Lines of an aligned table; columns in ``right`` are right-aligned (numbers)."""
    cells = [[clean(value) for value in row] for row in rows]
    right_columns = set(right)
    widths = [display_width(header) for header in headers]
    for row in cells:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], display_width(text))
    last = len(headers) - 1

    def line(values: Sequence[str]) -> str:
        parts = [
            _pad(text, widths[i], right=i in right_columns) if i < last or i in right_columns
            else text
            for i, text in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    return [line(list(headers)), *(line(row) for row in cells)]


def echo_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Iterable[int] = (),
    empty: str = "",
) -> None:
    """Print an aligned table to stdout; with no rows, only the ``empty`` note, on stderr.

    Like ``kubectl get``: an empty answer prints nothing on stdout (a header alone reads
    like a broken command) and says on stderr what there is not, and how to change that.
    """
    lines = render_table(headers, rows, right=right)
    if len(lines) == 1 and empty:
        click.echo(empty, err=True)
        return
    for text in lines:
        click.echo(text)


def echo_fields(fields: Sequence[tuple[str, Any]]) -> None:
    """Print ``Label  value`` lines, labels aligned."""
    width = max(display_width(label) for label, _ in fields)
    for label, value in fields:
        click.echo(f"{_pad(label, width, right=False)}  {clean(value)}")


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (UTF-8, not ASCII-escaped), key order kept."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print RFC 4180 CSV with a header row; None becomes an empty field."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    sys.stdout.flush()


def format_count(value: int) -> str:
    """A counter for humans: ``1,234,567``."""
    return f"{value:,}"


def wire(model: Any) -> Any:
    """A wire model as its JSON shape (camelCase, ISO times); None stays None."""
    return None if model is None else model.model_dump(mode="json", by_alias=True)
