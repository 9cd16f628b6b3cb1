"""The stats dashboard: live usage totals of a workspace, per configuration, with rates.

One ``GET /ai/llm/stats`` per refresh whatever the number of configurations: the answer
holds every configuration the caller can see and is filtered here to the workspace's
configurations (whose names are fetched once on mount and again on ``r``). When the
platform serves ``/aistats/minute``, the last 60 minutes of calls and tokens are drawn too,
with the latency; a platform without it (404) or without traffic degrades to a short note.
Network calls run in a worker; failures become a message and the refresh timer carries on.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Sparkline, Static
from textual.worker import Worker, WorkerState

from flashback_tui.api.errors import FlashbackConnectionError, FlashbackError, NotFoundError
from flashback_tui.domain.usage import (
    ALARMING_FIELDS,
    COUNTERS,
    FIELD_INDEX,
    NO_USAGE,
    MinuteSeries,
    counters_of,
    fit_count,
    format_rate,
    minute_window,
    per_minute,
    read_counters,
    series_summary,
    summarize_minutes,
)
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import fill_header
from flashback_tui.tui.screens.stats_links import StatsLinks
from flashback_tui.tui.widgets.header_bar import HeaderBar
from flashback_tui.tui.widgets.key_bar import KeyBar
from flashback_tui.tui.widgets.stat_tile import StatTile

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm, AiLlmStats, AiStatsPoint
    from flashback_tui.tui.session_state import SessionState

__all__ = ["COUNTERS", "MinuteSeries", "StatsScreen", "counters_of", "fit_count",
           "minute_window", "per_minute", "summarize_minutes"]

#: How many per-refresh rates each tile's sparkline keeps.
RATE_HISTORY = 40
#: Above this many configurations, ``/aistats/minute`` is asked for every configuration and
#: filtered here, so that the query string stays short.
MAX_IDS_IN_QUERY = 50


def now_utc() -> datetime:
    """The current time; the one clock of the dashboard (the series window and the status)."""
    return datetime.now(UTC)


#: Table columns after Name and Provider: (key, header, counter field or None, width).
#: Widths are fixed so that a refresh never re-measures or re-lays out the table.
TABLE_COLUMNS: tuple[tuple[str, str, str | None, int], ...] = (
    ("rate", "/min", None, 5),
    ("calls", "Calls", "total_api_calls", 7),
    ("tokens-in", "Tok in", "total_tokens_in", 8),
    ("tokens-out", "Tok out", "total_tokens_out", 8),
    ("llm-tokens-in", "LLM in", "total_llm_tokens_in", 8),
    ("llm-tokens-out", "LLM out", "total_llm_tokens_out", 8),
    ("violations", "Viol.", "total_policy_violations", 5),
    ("alerts", "Alerts", "total_alerts", 6),
    ("blocks", "Blocks", "total_blocks", 6),
)
#: The Name column is as wide as the longest name when the dashboard opens, within these.
NAME_WIDTH = (8, 24)
PROVIDER_WIDTH = 9
_read_counters = read_counters


class StatsScreen(StatsLinks):
    """Screen 5: live usage of a workspace (or of every accessible one when ``workspace_id``
    is None): totals as tiles, a per-configuration table, rates and the last hour."""

    CSS_PATH = "stats.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "Pause/resume", id="stats.pause"),
        Binding("r", "reload", "Reload", id="stats.reload"),
        Binding("escape", "back", "Back", id="stats.back"),
    ]

    class Loaded(Message):
        """A refresh succeeded: the stats, the configurations when they were reloaded, and the
        minute series when it was fetched (``series_supported`` None: not fetched)."""

        def __init__(
            self,
            stats: list[AiLlmStats],
            configs: list[AiLlm] | None,
            series: MinuteSeries | None,
            series_supported: bool | None,
            fetched_at: float,
        ) -> None:
            super().__init__()
            self.stats = stats
            self.configs = configs
            self.series = series
            self.series_supported = series_supported
            self.fetched_at = fetched_at

    class Failed(Message):
        """A refresh failed with a client error; the timer keeps going."""

        def __init__(self, error: FlashbackError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, state: SessionState, workspace_id: str | None,
                 workspace_name: str) -> None:
        super().__init__(state)
        self.workspace_id = workspace_id
        self.workspace_name = workspace_name
        self.paused = False
        self.refresh_count = 0
        self._configs: dict[str, AiLlm] | None = None
        self._busy = False
        self._series_supported = True
        self._series_minute: datetime | None = None
        self._traffic = False
        self._last_totals: tuple[int, ...] | None = None
        self._last_calls: dict[str, int] = {}
        self._last_at: float | None = None
        self._rates: dict[str, deque[float]] = {c.field: deque(maxlen=RATE_HISTORY)
                                                 for c in COUNTERS}
        self._usage: tuple[object, dict[str, tuple[int, ...]]] = (None, {})
        self._cells: dict[str, dict[str, str]] = {}
        self._row_signatures: dict[str, tuple[str | None, tuple[int, ...]]] = {}
        self._last_stats: list[AiLlmStats] = []
        self._updated_at: datetime | None = None
        self._error: str | None = None
        self._status_text = ""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static("Loading…", id="stats-status", markup=False)
        yield Static("", id="stats-error", markup=False)
        yield Static("No configurations here yet: add one from the configuration list (n)"
                     " to see its usage.", id="stats-empty", markup=False)
        with Grid(id="stats-tiles"):
            for counter in COUNTERS:
                yield StatTile(counter.label, alert_when_nonzero=counter.alarming,
                               id=f"tile-{counter.key}")
        with Vertical(id="stats-series"):
            with Horizontal(classes="series-row"):
                yield Label("Calls/min, 60 min", classes="series-label")
                yield Sparkline([], id="series-calls")
            with Horizontal(classes="series-row"):
                yield Label("Tokens/min, 60 min", classes="series-label")
                yield Sparkline([], id="series-tokens")
            yield Static("Last hour: loading…", id="series-summary", markup=False)
        yield DataTable(id="stats-table", cursor_type="row", zebra_stripes=True)
        yield Static("More columns to the right: ← → scroll", id="stats-scroll-hint",
                     markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Usage statistics"
        self._update_header()
        self.interval = float(self.state.refresh_interval or 2.0)
        self._timer = self.set_interval(self.interval, self._on_tick, name="stats-refresh")
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._render_status()
        self._start_refresh(reload_configs=True)

    busy = property(lambda self: self._busy, doc="Whether a refresh is on its way.")
    series_available = property(lambda self: bool(self._series_supported),
                                doc="Whether the platform serves the minute series.")

    # -- actions -------------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        """Pause the refresh timer, or resume it and refresh at once."""
        self.paused = not self.paused
        if self.paused:
            self._timer.pause()
        else:
            self._timer.resume()
            self._start_refresh(reload_configs=False)
        self._render_status()

    def action_reload(self) -> None:
        """Fetch the configuration names again, then the stats."""
        self._start_refresh(reload_configs=True)

    def action_back(self) -> None:
        """Return to the previous screen."""
        self.app.pop_screen()

    # -- fetching ------------------------------------------------------------------------------

    def _on_tick(self) -> None:
        if not self.paused and not self._busy:
            self._start_refresh(reload_configs=False)

    def _start_refresh(self, *, reload_configs: bool) -> None:
        self._busy = True
        known = set(self._configs) if self._configs is not None else None
        reload_configs = reload_configs or known is None
        self._fetch(reload_configs, self._series_due(reload_configs), known)

    def _series_due(self, reload_configs: bool) -> bool:
        """Whether this refresh also fetches the minute series: when the platform serves it
        and something may have changed (new minute, traffic seen last time, a reload)."""
        if not self._series_supported:
            return False
        minute = now_utc().replace(second=0, microsecond=0)
        return reload_configs or self._traffic or self._series_minute != minute

    @work(exclusive=True, group="stats-refresh", exit_on_error=False, description="refresh")
    async def _fetch(self, reload_configs: bool, want_series: bool,
                     known_ids: set[str] | None) -> None:
        """Fetch the configurations (when asked), the stats and the minute series (when
        asked)."""
        client = self.state.client
        if client is None:
            self.post_message(self.Failed(FlashbackConnectionError("not connected yet")))
            return
        try:
            configs = None
            ids = known_ids
            if reload_configs:
                configs = list((await client.get_ai_llms(self.workspace_id)).ai_llms)
                ids = {c.id for c in configs if self._belongs_here(c)}
            start, end = minute_window(now_utc())
            if want_series:
                stats_answer, (supported, points) = await asyncio.gather(
                    client.get_ai_llm_stats(), self._fetch_series(start, end, ids)
                )
            else:
                stats_answer, supported, points = await client.get_ai_llm_stats(), None, []
        except FlashbackError as error:
            self.post_message(self.Failed(error))
            return
        series = None
        if supported:
            only = ids if self.workspace_id is not None else None
            series = summarize_minutes(points, start, ai_llm_ids=only)
        self.post_message(
            self.Loaded(stats_answer.stats, configs, series, supported, time.monotonic())
        )

    def _belongs_here(self, config: AiLlm) -> bool:
        return self.workspace_id is None or config.workspace_id == self.workspace_id

    async def _fetch_series(
        self, start: datetime, end: datetime, ids: set[str] | None
    ) -> tuple[bool, list[AiStatsPoint]]:
        """``(supported, points)`` of ``/aistats/minute``. A 404 to a query naming
        configurations (one may just have been deleted) is retried without them; a 404
        without them means the platform does not serve the series."""
        if self.workspace_id is not None and ids is not None and not ids:
            return True, []
        named = None
        if self.workspace_id is not None and ids and len(ids) <= MAX_IDS_IN_QUERY:
            named = sorted(ids)
        client = self.state.client
        assert client is not None
        try:
            answer = await client.get_ai_stats_minute(start=start, end=end, ai_llm_ids=named)
        except NotFoundError:
            if named is None:
                return False, []
            try:
                answer = await client.get_ai_stats_minute(start=start, end=end)
            except NotFoundError:
                return False, []
        return True, list(answer.data)

    # -- applying answers ----------------------------------------------------------------------

    def on_stats_screen_loaded(self, message: Loaded) -> None:
        self._busy = False
        self.refresh_count += 1
        if message.configs is not None:
            self._set_configs(message.configs)
        self._error = None
        self._updated_at = now_utc()
        self._last_stats = message.stats
        self._apply_stats(message.stats, message.fetched_at)
        if message.series_supported is not None:
            self._series_supported = message.series_supported
            self._series_minute = self._updated_at.replace(second=0, microsecond=0)
            self._apply_series(message.series)
        self._render_status()

    def on_stats_screen_failed(self, message: Failed) -> None:
        self._busy = False
        self._show_error(message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "stats-refresh":
            super().on_worker_state_changed(event)
        elif event.state == WorkerState.ERROR:
            self._busy = False
            self._show_error(event.worker.error)
        elif event.state == WorkerState.CANCELLED:
            self._busy = False

    def _update_header(self) -> None:
        header = self.query_one(HeaderBar)
        role = self.state.role_label(self.workspace_id) if self.workspace_id else ""
        fill_header(header, self.state, workspace=self.workspace_name, role=role)
        header.title = "flashback-tui · stats"

    def _show_error(self, error: BaseException | None) -> None:
        """Show why the last refresh failed; the timer keeps trying."""
        backend = self.state.backend_label or "the backend"
        report = describe_error(error or RuntimeError("refresh failed"), backend)
        hint = "" if self.state.local else report.hint  # no URL to check on the local one
        self._error = (self.state.platform_trouble
                       or f"{report.title}: {report.message} {hint}").strip()
        self._render_status()

    def _set_configs(self, configs: Sequence[AiLlm]) -> None:
        """Keep the workspace's configurations and make the table rows match them."""
        ordered = sorted(configs, key=lambda c: (c.name.casefold(), c.id))
        if self.workspace_id is not None:
            ordered = [c for c in ordered if c.workspace_id == self.workspace_id]
        self._configs = {c.id: c for c in ordered}
        table = self.query_one(DataTable)
        if not table.columns:
            self._add_columns(table, ordered)
        for gone in [key for key in self._cells if key not in self._configs]:
            table.remove_row(gone)
            del self._cells[gone]
            self._row_signatures.pop(gone, None)
            self._last_calls.pop(gone, None)
        new_rows = []
        for config in ordered:
            name = Text(config.name, no_wrap=True, overflow="ellipsis")
            provider = Text(str(config.ai_type), no_wrap=True, overflow="ellipsis")
            if config.id in self._cells:
                self._set_cell(config.id, "name", name)
                self._set_cell(config.id, "provider", provider)
                continue
            self._cells[config.id] = {"name": name.plain, "provider": provider.plain}
            new_rows.append((config.id, [name, provider] + [Text("")] * len(TABLE_COLUMNS)))
        for key, cells in new_rows:
            table.add_row(*cells, key=key)
        self.call_after_refresh(self._update_scroll_hint)
        if self.workspace_id is not None:
            self._last_totals = None  # the set of configurations changed: no rate this time

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_scroll_hint)

    def _update_scroll_hint(self) -> None:
        """Say that more columns are to the right when the table is wider than the screen."""
        table = self.query_one(DataTable)
        needed = sum(column.get_render_width(table) for column in table.columns.values())
        self.query_one("#stats-scroll-hint").display = needed > table.size.width > 0

    @staticmethod
    def _add_columns(table: DataTable, configs: Sequence[AiLlm]) -> None:
        """Add the columns, all of a fixed width (the name's from the names known now)."""
        low, high = NAME_WIDTH
        longest = max((len(c.name) for c in configs), default=low)
        table.add_column("Name", key="name", width=min(high, max(low, longest)))
        table.add_column("Provider", key="provider", width=PROVIDER_WIDTH)
        for key, label, _field, width in TABLE_COLUMNS:
            table.add_column(Text(label, justify="right"), key=key, width=width)

    def _apply_stats(self, stats: Sequence[AiLlmStats], fetched_at: float) -> None:
        """Update the tiles and the table cells in place from one stats answer."""
        configs = self._configs or {}
        if self._usage[0] is not stats:  # a 304 brings back the very answer parsed before
            self._usage = (stats, {s.ai_llm_id: _read_counters(s) for s in stats})
        usage = self._usage[1]
        rows = {config_id: usage.get(config_id, NO_USAGE) for config_id in configs}
        totals = tuple(map(sum, zip(*rows.values(), strict=True))) if rows else NO_USAGE
        elapsed = fetched_at - self._last_at if self._last_at is not None else 0.0
        for index, counter in enumerate(COUNTERS):
            rate = None
            if self._last_totals is not None and elapsed > 0:
                rate = per_minute(totals[index], self._last_totals[index], elapsed)
                self._rates[counter.field].append(rate)
            tile = self.query_one(f"#tile-{counter.key}", StatTile)
            tile.show(totals[index], rate, self._rates[counter.field])
        for config_id, counters in rows.items():
            self._update_row(config_id, counters, elapsed)
        self._traffic = totals != self._last_totals
        self._last_totals = totals
        self._last_calls = {config_id: counters[0] for config_id, counters in rows.items()}
        self._last_at = fetched_at

    def _update_row(self, config_id: str, counters: tuple[int, ...], elapsed: float) -> None:
        previous = self._last_calls.get(config_id)
        if previous is None or elapsed <= 0:
            rate_text = None
        elif previous == counters[0]:
            rate_text = "0"
        else:
            rate_text = format_rate(per_minute(counters[0], previous, elapsed))
        signature = (rate_text, counters)
        if self._row_signatures.get(config_id) == signature:
            return  # nothing changed in this row: no work at all (large workspaces)
        self._row_signatures[config_id] = signature
        error_color = self.app.theme_variables.get("error", "red")
        for key, _label, field, width in TABLE_COLUMNS:
            if field is None:
                if rate_text is None:
                    continue
                cell = Text(rate_text, justify="right")
            else:
                value = counters[FIELD_INDEX[field]]
                style = f"bold {error_color}" if field in ALARMING_FIELDS and value else ""
                cell = Text(fit_count(value, width), style=style, justify="right")
            self._set_cell(config_id, key, cell)

    def _set_cell(self, row: str, column: str, cell: Text) -> None:
        """Update one cell, in place, only if its text or style changed."""
        shown = self._cells[row]
        signature = f"{cell.style}|{cell.plain}"
        if shown.get(column) == signature:
            return
        shown[column] = signature
        self.query_one(DataTable).update_cell(row, column, cell)

    def _apply_series(self, series: MinuteSeries | None) -> None:
        summary = self.query_one("#series-summary", Static)
        calls = self.query_one("#series-calls", Sparkline)
        tokens = self.query_one("#series-tokens", Sparkline)
        if series is None:
            self.query_one("#stats-series").set_class(True, "-unavailable")
            summary.update("Last hour: per-minute series not available from this platform.",
                           layout=False)
            return
        self.query_one("#stats-series").set_class(False, "-unavailable")
        for sparkline, data in ((calls, series.calls), (tokens, series.tokens)):
            values = [float(v) for v in data]
            if list(sparkline.data or []) != values:
                sparkline.data = values
        text = series_summary(series)
        shown = str(summary.render())
        if text != shown:
            # A new layout only when the summary wraps onto a different number of lines.
            width = max(summary.size.width, 1)
            relayout = len(textwrap.wrap(text, width)) != len(textwrap.wrap(shown, width))
            summary.update(text, layout=relayout)

    def _on_theme_changed(self, _theme: Any) -> None:
        """Redraw highlighted cells in the new theme's error colour."""
        self._row_signatures.clear()
        for shown in self._cells.values():
            for column in [c for c in shown if c not in ("name", "provider")]:
                shown[column] = ""
        if self._configs is not None and self._last_at is not None:
            by_id = {s.ai_llm_id: s for s in self._last_stats}
            for config_id in self._configs:
                self._update_row(config_id, counters_of(by_id.get(config_id)), 0.0)

    # -- status line ---------------------------------------------------------------------------

    def _render_status(self) -> None:
        interval = f"{self.interval:g} s"
        if self.paused:
            state = "❚❚ Paused (p resumes)"
        elif self._error is not None:
            state = "◌ STALE: the platform does not answer; last figures kept"
        else:
            state = f"● Live, every {interval} (p pauses)"
        if self._updated_at is not None:
            state += f" · updated {self._updated_at.astimezone():%H:%M:%S}"
        else:
            state += " · loading…"
        if self._configs is not None:
            count = len(self._configs)
            state += f" · {count} configuration{'s' if count != 1 else ''}"
        status = self.query_one("#stats-status", Static)
        if state != self._status_text:
            self._status_text = state
            status.update(state, layout=False)
        error = self.query_one("#stats-error", Static)
        if self._error is not None:
            error.update(f"⚠ {self._error} Retrying every {interval}.")
        self.set_class(self._error is not None, "-failing")
        self.set_class(self._configs is not None and not self._configs, "-empty")
