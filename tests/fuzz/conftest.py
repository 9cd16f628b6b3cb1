"""Registers the ``fuzz`` marker, so ``pytest -m fuzz`` runs the generated-request tests alone."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: generated requests against the real server (Schemathesis)")
