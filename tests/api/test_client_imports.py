"""Import weight of the API package: models stay free of httpx, the client of UI and server."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout))


def test_models_do_not_import_httpx() -> None:
    loaded = loaded_after_import("flashback_tui.api.models")
    assert "httpx" not in loaded
    assert "flashback_tui.api.client" not in loaded


def test_client_imports_neither_ui_nor_server() -> None:
    loaded = loaded_after_import("flashback_tui.api.client")
    assert "httpx" in loaded
    for heavy in ("textual", "fastapi", "uvicorn", "cryptography", "flashback_tui.server"):
        assert heavy not in loaded, heavy
