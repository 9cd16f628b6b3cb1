"""Import hygiene: non-UI modules never import textual, and the CLI imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

#: Modules of the TUI package that hold logic without widgets; they must stay textual-free.
TUI_PLAIN_MODULES = ["flashback_tui.domain.validation", "flashback_tui.tui.errors"]

#: Imports every non-UI module in turn and reports the first one after which textual is loaded.
_SCAN = """
import importlib, json, pkgutil, sys
import flashback_tui
names = sorted(
    info.name for info in pkgutil.walk_packages(flashback_tui.__path__, "flashback_tui.")
    if not info.name.startswith("flashback_tui.tui.") and info.name != "flashback_tui.__main__"
) + sys.argv[1:]
culprit = None
for name in names:
    importlib.import_module(name)
    if culprit is None and any(m == "textual" or m.startswith("textual.") for m in sys.modules):
        culprit = name
print(json.dumps({"checked": names, "culprit": culprit}))
"""


def _loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout))


def test_no_module_outside_the_tui_imports_textual() -> None:
    out = subprocess.run([sys.executable, "-c", _SCAN, *TUI_PLAIN_MODULES], check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout)
    assert "flashback_tui.server.app" in result["checked"]
    assert "flashback_tui.domain.validation" in result["checked"]
    assert "flashback_tui.commands.llm" in result["checked"]
    assert result["culprit"] is None, f"{result['culprit']} imports textual"


def test_cli_does_not_import_server_or_client_stack() -> None:
    loaded = _loaded_after_import("flashback_tui.cli")
    for heavy in ("fastapi", "uvicorn", "httpx", "textual", "cryptography", "botocore"):
        assert heavy not in loaded, heavy
