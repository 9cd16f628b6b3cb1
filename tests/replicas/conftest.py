"""Fixtures of the replica tests: the provider stand-in, one per module (the replicas
themselves are started by each module, shared by its tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_provider import FakeProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """The provider stand-in the replicas' gateways call."""
    with FakeProvider() as fake:
        yield fake
