"""FastTable: a line-API table for large lists (10,000+ rows) with filter, sort and cursor.

Only the lines on screen are rendered, so filling, filtering, sorting and updating a row cost
a list operation plus a repaint of the visible lines, whatever the number of rows. Rows are
plain :class:`TableRow` values; the table never creates a widget per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class TableColumn:
    """A column and how it gets its width.

    Every column first gets ``min_width`` (less when nothing in it is that wide: an empty
    column shrinks to its label). Then, by ``priority`` (0 first), each grows towards what
    it holds, up to ``max_width``; what is left goes to the columns with ``flex``. ``width``
    fixes the width outright.
    """

    label: str
    width: int | None = None
    flex: int = 0
    min_width: int = 4
    justify_right: bool = False
    priority: int = 5
    max_width: int | None = None


@dataclass(slots=True)
class TableRow:
    """One row: a stable key, the text of each cell, a sort value per cell, cell styles.

    ``styles`` holds a component-class suffix per cell (e.g. ``"valid"``) or None.
    ``search`` is the lower-cased text the filter looks in.
    """

    key: str
    cells: tuple[str, ...]
    sort_values: tuple[Any, ...] = ()
    styles: tuple[str | None, ...] = ()
    search: str = ""
    data: Any = field(default=None, compare=False)


class FastTable(ScrollView, can_focus=True):
    """A keyboard-first table rendering only visible lines; the header stays on line 0."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
        Binding("o", "cycle_sort", "Sort", show=False, id="table.sort"),
        Binding("O", "reverse_sort", "Reverse sort", show=False, id="table.reverse_sort"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fast-table--header",
        "fast-table--cursor",
        "fast-table--valid",
        "fast-table--invalid",
        "fast-table--pending",
        "fast-table--dim",
    }

    DEFAULT_CSS = """
    FastTable {
        height: 1fr;
        scrollbar-size-horizontal: 0;
    }
    FastTable > .fast-table--header { text-style: bold; background: $panel; color: $text; }
    FastTable > .fast-table--cursor { background: $block-cursor-blurred-background; }
    FastTable:focus > .fast-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold;
    }
    FastTable > .fast-table--valid { color: $success; }
    FastTable > .fast-table--invalid { color: $error; }
    FastTable > .fast-table--pending { color: $warning; }
    FastTable > .fast-table--dim { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class _RowMessage(Message):
        """A message about one row of a table, named by its key."""

        def __init__(self, table: FastTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            """The table that sent the message (for ``@on`` selectors)."""
            return self.table

    class Highlighted(_RowMessage):
        """The cursor moved to another row (``key`` None when the table is empty)."""

    class Selected(_RowMessage):
        """Enter (or a double click) on a row (``key`` is never None)."""

        key: str

    def __init__(
        self,
        columns: Sequence[TableColumn],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self._rows: list[TableRow] = []
        self._by_key: dict[str, TableRow] = {}
        self._row_index: dict[str, int] = {}
        self._visible: list[TableRow] = []
        self._position: dict[str, int] = {}
        self._filter = ""
        self._predicate: Callable[[TableRow], bool] | None = None
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._widths_for: tuple[int, list[int]] = (-1, [])
        self._natural: list[int] | None = None

    # ----------------------------------------------------------------------------------------
    # Data
    # ----------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._visible)

    @property
    def total_count(self) -> int:
        """All rows, filtered or not."""
        return len(self._rows)

    @property
    def keys(self) -> list[str]:
        """Keys of all rows, in the order they were given (before filter and sort)."""
        return [row.key for row in self._rows]

    @property
    def visible_rows(self) -> list[TableRow]:
        """The rows shown, in display order."""
        return list(self._visible)

    @property
    def cursor_key(self) -> str | None:
        """Key of the row under the cursor."""
        if 0 <= self.cursor_row < len(self._visible):
            return self._visible[self.cursor_row].key
        return None

    def get_row(self, key: str) -> TableRow | None:
        """The row with this key, shown or filtered out."""
        return self._by_key.get(key)

    def set_rows(self, rows: Iterable[TableRow]) -> None:
        """Replace every row, keeping the cursor on the same key when it still exists."""
        keep = self.cursor_key
        self._rows = list(rows)
        self._by_key = {row.key: row for row in self._rows}
        self._row_index = {row.key: index for index, row in enumerate(self._rows)}
        self._natural = None
        self._rebuild(keep)

    def set_columns(self, columns: Sequence[TableColumn]) -> None:
        """Show other columns (rows must then carry cells for them)."""
        self.columns = list(columns)
        self._natural = None
        self._widths_for = (-1, [])
        self.refresh()

    def update_rows(self, rows: Iterable[TableRow]) -> None:
        """Replace rows in place by key (unknown keys are ignored); repaints only those lines."""
        top = int(self.scroll_offset.y)
        height = max(self.size.height - 1, 0)
        lines: list[int] = []
        for row in rows:
            old = self._by_key.get(row.key)
            if old is None:
                continue
            self._by_key[row.key] = row
            self._rows[self._row_index[row.key]] = row
            self._widen(row)
            position = self._position.get(row.key)
            if position is not None:
                self._visible[position] = row
                if top <= position < top + height:
                    lines.append(position - top + 1)
        self._refresh_screen_lines(lines)

    def _widen(self, row: TableRow) -> None:
        """Let the column widths follow a changed row (a longer status, say)."""
        natural = self._natural
        if natural is None:
            return
        for index, text in enumerate(row.cells[:len(natural)]):
            if len(text) > natural[index]:
                natural[index] = len(text)
                self._widths_for = (-1, [])

    def _refresh_screen_lines(self, lines: list[int]) -> None:
        """Repaint these lines of the widget (0 is the header); many lines: all of it."""
        if len(lines) > 8 or self._widths_for[0] == -1:
            self.refresh()
            return
        width = self.size.width
        for y in lines:
            self.refresh(Region(0, y, width, 1))

    def set_filter(self, text: str, predicate: Callable[[TableRow], bool] | None = None) -> None:
        """Show only rows whose ``search`` contains ``text`` (and that pass ``predicate``)."""
        text = text.strip().lower()
        if text == self._filter and predicate is self._predicate:
            return
        keep = self.cursor_key
        self._filter = text
        self._predicate = predicate
        self._rebuild(keep)

    def sort_by(self, column: int | None, reverse: bool = False) -> None:
        """Sort by a column's sort values (None restores the given order)."""
        keep = self.cursor_key
        self.sort_column = column
        self.sort_reverse = reverse
        self._rebuild(keep)

    def move_cursor_to_key(self, key: str | None) -> None:
        """Put the cursor on ``key`` if shown, else on the first row."""
        self.cursor_row = self._position.get(key, 0) if key is not None else 0

    def _rebuild(self, keep: str | None) -> None:
        rows = self._rows
        if self._filter:
            needle = self._filter
            rows = [row for row in rows if needle in row.search]
        if self._predicate is not None:
            rows = [row for row in rows if self._predicate(row)]
        if self.sort_column is not None:
            column = self.sort_column
            rows = sorted(rows, key=lambda row: _sort_key(row, column), reverse=self.sort_reverse)
        elif rows is self._rows:
            rows = list(rows)
        self._visible = rows
        self._position = {row.key: index for index, row in enumerate(rows)}
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        position = self._position.get(keep) if keep is not None else None
        self.cursor_row = position if position is not None else min(self.cursor_row, 0)
        self.refresh()

    # ----------------------------------------------------------------------------------------
    # Cursor and keys
    # ----------------------------------------------------------------------------------------

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._visible) - 1)) if self._visible else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        self._scroll_cursor_into_view()
        if int(self.scroll_offset.y) != top:
            self.refresh()
        else:
            self._refresh_screen_lines([old - top + 1, new - top + 1])
        self.post_message(self.Highlighted(self, self.cursor_key))

    def _scroll_cursor_into_view(self) -> None:
        page = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= max(self.size.height - 2, 1)

    def action_page_down(self) -> None:
        self.cursor_row += max(self.size.height - 2, 1)

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._visible) - 1

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def action_cycle_sort(self) -> None:
        """Sort by the next column (none -> first -> ... -> last -> none)."""
        column = self.sort_column
        next_column = 0 if column is None else column + 1
        self.sort_by(None if next_column >= len(self.columns) else next_column)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column if self.sort_column is not None else 0,
                     not self.sort_reverse)

    async def _on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                reverse = not self.sort_reverse if column == self.sort_column else False
                self.sort_by(column, reverse)
            return
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self._visible):
            if row == self.cursor_row and event.chain > 1:
                self.action_select()
            self.cursor_row = row

    def _column_at(self, x: int) -> int | None:
        offset = 0
        for index, width in enumerate(self._column_widths(self.scrollable_content_region.width)):
            if offset <= x < offset + width + 1:
                return index
            offset += width + 1
        return None

    # ----------------------------------------------------------------------------------------
    # Rendering
    # ----------------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._visible) + 1)
        self._scroll_cursor_into_view()

    def natural_widths(self) -> list[int]:
        """How wide each column's widest cell is (the label and a sort arrow included)."""
        if self._natural is None:
            natural = [len(c.label) + 2 for c in self.columns]
            count = len(natural)
            for row in self._rows:
                for index, text in enumerate(row.cells[:count]):
                    if len(text) > natural[index]:
                        natural[index] = len(text)
            self._natural = natural
            self._widths_for = (-1, [])
        return self._natural

    def _column_widths(self, width: int) -> list[int]:
        natural = self.natural_widths()
        if self._widths_for[0] == width:
            return self._widths_for[1]
        columns = self.columns
        widths = []
        for column, wants in zip(columns, natural, strict=True):
            if column.width is not None:
                widths.append(column.width)
            else:
                empty_label = len(column.label)
                has_cells = wants > empty_label + 2
                widths.append(min(column.min_width, wants) if has_cells else empty_label)
        free = width - sum(widths) - (len(columns) - 1)
        for index in sorted(range(len(columns)), key=lambda i: columns[i].priority):
            column = columns[index]
            if free <= 0:
                break
            if column.width is not None:
                continue
            target = natural[index] if column.max_width is None \
                else min(natural[index], column.max_width)
            grow = min(max(target - widths[index], 0), free)
            widths[index] += grow
            free -= grow
        flexible = [i for i, c in enumerate(columns) if c.flex and c.width is None]
        if free > 0 and flexible:
            total = sum(columns[i].flex for i in flexible)
            shares = [free * columns[i].flex // total for i in flexible]
            shares[-1] += free - sum(shares)
            for index, share in zip(flexible, shares, strict=True):
                widths[index] += share
        self._widths_for = (width, widths)
        return widths

    def _style(self, suffix: str) -> Style:
        return self.get_component_rich_style(f"fast-table--{suffix}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._render_header(width, base)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._visible):
            return Strip.blank(width, base)
        row = self._visible[index]
        line_style = base
        if index == self.cursor_row:
            line_style = base + self._style("cursor")
        segments: list[Segment] = []
        widths = self._column_widths(width)
        for col, (column, cell_width) in enumerate(zip(self.columns, widths, strict=False)):
            if col:
                segments.append(Segment(" ", line_style))
            text = row.cells[col] if col < len(row.cells) else ""
            style = line_style
            suffix = row.styles[col] if col < len(row.styles) else None
            if suffix and index != self.cursor_row:
                style = line_style + self._style(suffix)
            segments.append(Segment(_fit(text, cell_width, column.justify_right), style))
        return Strip(segments).adjust_cell_length(width, line_style)

    def _render_header(self, width: int, base: Style) -> Strip:
        style = base + self._style("header")
        segments: list[Segment] = []
        for col, (column, cell_width) in enumerate(
            zip(self.columns, self._column_widths(width), strict=False)
        ):
            if col:
                segments.append(Segment(" ", style))
            label = column.label
            if col == self.sort_column:  # the arrow always shows: the label is cut first
                arrow = " ▼" if self.sort_reverse else " ▲"
                room = max(cell_width - 2, 1)
                label = (label if len(label) <= room else _fit(label, room)) + arrow
            segments.append(Segment(_fit(label, cell_width, column.justify_right), style))
        return Strip(segments).adjust_cell_length(width, style)


def _fit(text: str, width: int, right: bool = False) -> str:
    """``text`` cut with an ellipsis or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = cell_len(text) if not text.isascii() else len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - length)
    return pad + text if right else text + pad


def _sort_key(row: TableRow, column: int) -> tuple[int, Any]:
    values = row.sort_values or row.cells
    value = values[column] if column < len(values) else None
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)
