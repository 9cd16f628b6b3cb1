"""Parameter types of the scriptable commands (the models are imported lazily, so ``--help``
and shell completion stay fast)."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem


class AiTypeParam(click.ParamType):
    """``--type``: one of models.AiType, case-insensitive, completed by the shell."""

    name = "type"

    @staticmethod
    def _choices() -> list[str]:
        from flashback_tui.api.models import AiType

        return [member.value for member in AiType]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "OPENAI|GOOGLE|ANTHROPIC|AWS|OTHER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from flashback_tui.api.models import AiType

        if isinstance(value, AiType):
            return value
        text = str(value).strip().upper()
        if text not in self._choices():
            self.fail(f"{value!r} is not one of {', '.join(self._choices())}", param, ctx)
        return AiType(text)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(choice) for choice in self._choices()
                if choice.startswith(incomplete.upper())]


class RefParam(click.ParamType):
    """A thing named by its id or its name: non-empty text, resolved online later."""

    name = "ref"

    def __init__(self, metavar: str = "NAME_OR_ID") -> None:
        self.metavar = metavar

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if not text:
            self.fail("must not be empty (give a name or an id)", param, ctx)
        return text


class EventIdParam(click.ParamType):
    """A system event id: a positive whole number."""

    name = "event id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is not an event id (a whole number, as `events` lists)",
                      param, ctx)
        return number


AI_TYPE = AiTypeParam()
REF = RefParam()
CONFIG_REF = RefParam("CONFIG")
EVENT_ID = EventIdParam()

#: ``--action``: the policy action names and their wire numbers.
ACTIONS = {"log": 0, "alert": 1, "block": 2}
ACTION = click.Choice(list(ACTIONS), case_sensitive=False)
RISK = click.Choice(["low", "medium", "high"], case_sensitive=False)
ROLE = click.Choice(["READ", "WRITE", "ADMIN"], case_sensitive=False)


class TimeParam(click.ParamType):
    """A moment: ISO 8601 (``2024-01-15T10:30:00Z``) or an age (``30m``, ``2h``, ``7d``).

    Converted to ISO 8601 UTC with milliseconds, as the platform writes times. An upper
    bound (``end_of_day``) reads a bare date as that day's last millisecond, so ``--to
    2026-01-31`` includes the 31st, as the TUI's filters do.
    """

    name = "time"
    _UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def __init__(self, *, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from datetime import UTC, datetime, timedelta

        from flashback_tui.api.models import format_timestamp
        from flashback_tui.domain.moments import parse_moment

        text = str(value).strip()
        unit = self._UNITS.get(text[-1:].lower())
        if unit is not None and text[:-1].isdigit():
            return format_timestamp(datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * unit))
        try:
            return format_timestamp(parse_moment(text, end_of_day=self.end_of_day))
        except ValueError:
            self.fail(f"{text!r} is not a time: give ISO 8601 (2024-01-15T10:30:00Z) or an "
                      "age such as 30m, 2h or 7d", param, ctx)


TIME = TimeParam()
#: The upper bound of a range (``--to``, ``--until``): a bare date includes its day.
TIME_UNTIL = TimeParam(end_of_day=True)
