"""Import hygiene: non-UI modules never import textual, and the CLI imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NON_UI_MODULES = [
    "flashback_tui",
    "flashback_tui.cli",
    "flashback_tui.paths",
    "flashback_tui.api.models",
    "flashback_tui.api.errors",
    "flashback_tui.settings",
    "flashback_tui.credentials",
    "flashback_tui.connect",
    "flashback_tui.commands.auth",
]


def _loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", NON_UI_MODULES)
def test_non_ui_module_does_not_import_textual(module: str) -> None:
    loaded = _loaded_after_import(module)
    assert not any(name == "textual" or name.startswith("textual.") for name in loaded)


def test_cli_does_not_import_server_or_client_stack() -> None:
    loaded = _loaded_after_import("flashback_tui.cli")
    for heavy in ("fastapi", "uvicorn", "httpx", "textual", "cryptography", "botocore"):
        assert heavy not in loaded, heavy
