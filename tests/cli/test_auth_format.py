"""How ``auth status`` words a token's expiry."""

from __future__ import annotations

from flashback_tui.commands.auth_common import format_expiry

NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def test_unknown_expiry() -> None:
    assert format_expiry(None, has_refresh=True, now=NOW) == "unknown"


def test_a_live_token_says_when() -> None:
    text = format_expiry(int((NOW + 59 * 60) * 1000), has_refresh=True, now=NOW)
    assert text == "2027-01-15 08:59 UTC (in 59 min)"


def test_an_expired_token_with_a_refresh_token_is_refreshed_on_use() -> None:
    text = format_expiry(int((NOW - 3 * 3600) * 1000), has_refresh=True, now=NOW)
    assert text == "2027-01-15 05:00 UTC (expired 3 h ago; refreshed automatically on next use)"


def test_an_expired_token_without_a_refresh_token_needs_a_new_sign_in() -> None:
    text = format_expiry(int((NOW - 30) * 1000), has_refresh=False, now=NOW)
    assert "expired 30 s ago; sign in again with flashback-tui login" in text


def test_long_spans_are_in_days() -> None:
    assert "(in 30 days)" in format_expiry(int((NOW + 30 * 86400) * 1000), has_refresh=True,
                                           now=NOW)
