"""How PostgreSQL's values come back: plain Python numbers, as SQLite gives them.

PostgreSQL sums BIGINT columns into NUMERIC, which psycopg reads as ``Decimal``; the store
adds and compares such sums with ints and floats, so NUMERIC is read as ``int`` when whole
and ``float`` otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg.types.numeric import NumericBinaryLoader, NumericLoader


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class _PlainNumericLoader(NumericLoader):
    """NUMERIC in text format as int or float."""

    def load(self, data: Any) -> int | float:  # type: ignore[override]
        return _plain(super().load(data))


class _PlainNumericBinaryLoader(NumericBinaryLoader):
    """NUMERIC in binary format as int or float."""

    def load(self, data: Any) -> int | float:  # type: ignore[override]
        return _plain(super().load(data))


def register_numbers(dbapi_connection: Any) -> None:
    """Read NUMERIC as plain numbers on this psycopg connection."""
    adapters = getattr(dbapi_connection, "driver_connection", dbapi_connection).adapters
    adapters.register_loader("numeric", _PlainNumericLoader)
    adapters.register_loader("numeric", _PlainNumericBinaryLoader)
