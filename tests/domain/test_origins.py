"""The origin rule of a stored secret: same_origin and needs_secret_again."""

from __future__ import annotations

import pytest

from flashback_tui.domain.origins import needs_secret_again, same_origin


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://api.openai.com/v1", "https://api.openai.com/v2/", True),
    ("https://API.openai.com/v1", "https://api.openai.com:443/x", True),
    ("http://h:80/v1", "http://h/v1", True),
    ("https://api.openai.com/v1", "http://api.openai.com/v1", False),
    ("https://api.openai.com/v1", "https://api.openai.com:8443/v1", False),
    ("https://api.openai.com/v1", "https://my-host/v1", False),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1", False),
    ("not a url", "not a url", False),
])
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(a, b) is same
    assert same_origin(b, a) is same


def test_same_origin_of_missing_endpoints() -> None:
    assert same_origin(None, None)
    assert not same_origin(None, "https://h")


def test_a_new_host_needs_the_secret() -> None:
    assert needs_secret_again("https://api.openai.com/v1", "OPENAI", "http://my-host/v1", None)


def test_a_new_path_on_the_same_origin_does_not() -> None:
    assert not needs_secret_again("https://h.example/v1", "OTHER", "https://h.example/v2", None)


def test_nothing_changed_needs_nothing() -> None:
    assert not needs_secret_again("https://h.example/v1", "OTHER", None, None)
    assert not needs_secret_again("https://h.example/v1", "OTHER", None, "OTHER")


def test_a_new_type_needs_the_secret_even_on_the_same_endpoint() -> None:
    assert needs_secret_again("https://h.example/v1", "OTHER", None, "OPENAI")
    assert needs_secret_again("https://h.example/v1", "OTHER", "https://h.example/v1", "OPENAI")


def test_a_reset_to_the_official_endpoint_of_the_same_type_does_not() -> None:
    assert not needs_secret_again("http://proxy.local/v1", "OPENAI",
                                  "https://api.openai.com/v1", None)
    assert not needs_secret_again("http://proxy.local/v1", "ANTHROPIC",
                                  "https://api.anthropic.com/v1", "ANTHROPIC")


def test_the_official_endpoint_of_another_type_is_another_origin() -> None:
    assert needs_secret_again("http://proxy.local/v1", "OPENAI",
                              "https://api.anthropic.com/v1", None)


def test_other_has_no_official_endpoint() -> None:
    assert needs_secret_again("http://a.local/v1", "OTHER", "http://b.local/v1", None)
