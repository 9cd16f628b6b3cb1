"""``flashback-tui demo traffic``: bounded traffic through the gateway, key never in argv."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from flashback_tui.cli import main
from tests.gateway.helpers import Linked, stats_of


def test_demo_traffic_sends_counted_requests(linked: Linked) -> None:
    env = {**os.environ, "DEMO_KEY": linked.secret}
    url = linked.base_url.removesuffix("/v1")
    done = subprocess.run(
        [sys.executable, "-m", "flashback_tui", "demo", "traffic", "--url", url,
         "--key-env", "DEMO_KEY", "--rps", "20", "--seconds", "1"],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "ok 20" in done.stdout
    assert linked.secret not in done.stdout + done.stderr
    assert stats_of(linked.api, linked.llm_id)["totalApiCalls"] == 20


def test_demo_traffic_refuses_a_key_in_argv() -> None:
    canary = "fbsk_CANARY_in_argv_0123456789"
    result = CliRunner().invoke(main, ["demo", "traffic", "--key", canary])
    assert result.exit_code == 2
    assert "--key-env" in result.output and "--key-stdin" in result.output
    assert canary not in result.output
    result = CliRunner().invoke(main, ["demo", "traffic", f"--key={canary}"])
    assert result.exit_code == 2 and canary not in result.output


def test_demo_traffic_reports_a_refused_key(linked: Linked) -> None:
    result = CliRunner().invoke(
        main, ["demo", "traffic", "--url", linked.base_url, "--key-stdin", "--rps", "5",
               "--seconds", "1"], input="fbsk_wrong\n")
    assert result.exit_code == 3, result.output
    assert "refused the key" in result.output
    result = CliRunner().invoke(main, ["demo", "traffic", "--url", linked.base_url])
    assert result.exit_code == 2 and "--key-env" in result.output
