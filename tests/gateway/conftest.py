"""Fixtures of the gateway tests: a loopback provider, and a repository with a key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Linked, make_linked

# Every test here runs on SQLite and on PostgreSQL (see tests.support.backends).
from tests.support.backends import database_for_the_test, pytest_generate_tests  # noqa: F401
from tests.support.fake_provider import FakeProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """The provider stand-in, one per test module."""
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def linked(platform: PlatformHandle, world: World, provider: FakeProvider) -> Linked:
    """An OPENAI configuration on the provider's ``ok`` scenario, its repository and key."""
    return make_linked(platform, world, provider.endpoint("ok"))

