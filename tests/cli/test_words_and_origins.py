"""Messages a person understands, and ``llm update`` keeping a stored secret at its origin."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flashback_tui.api.errors import plain_words, with_hint
from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import GOOD_KEY, Cli
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def not_a_platform() -> Iterator[str]:
    """A web server that answers 404 in HTML to everything, as most sites do."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_url_that_is_not_a_platform_says_so(cli: Cli, not_a_platform: str) -> None:
    result = cli("workspaces", url=not_a_platform, token="t")
    assert result.exit_code == ExitCode.FAILURE and result.stdout == ""
    assert f"{not_a_platform} answered 404 for /workspace: is this a Flashback platform?" \
        in result.stderr


def test_an_unreachable_platform_is_said_in_plain_words(cli: Cli) -> None:
    result = cli("workspaces", url="http://127.0.0.1:9", token="t")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "nothing answers there (connection refused)" in result.stderr
    assert "All connection attempts failed" not in result.stderr


def test_plain_words_and_sentences() -> None:
    assert plain_words("name: String should have at most 255 characters") == (
        "name is too long: at most 255 characters")
    assert plain_words("body.name: Field required") == "body.name is required"
    assert plain_words("take: Input should be greater than or equal to 0") == (
        "take must be at least 0")
    assert plain_words("already plain") == "already plain"
    assert with_hint("configuration not found", "It may have been deleted: refresh the list.") \
        == "configuration not found. It may have been deleted: refresh the list."
    assert with_hint("Stopped.", "") == "Stopped."


def test_a_platform_message_reaches_the_cli_in_plain_words(cli: Cli, world: Any) -> None:
    result = cli("member", "add", world.workspace_name, "x" * 65, "--role", "READ")
    assert result.exit_code in (ExitCode.USAGE, ExitCode.NOT_FOUND)
    assert "String should" not in result.stderr and "Input should" not in result.stderr


def test_update_to_another_origin_needs_the_secret_again(
    cli: Cli, world: Any, create_llm: Callable[..., str], provider: FakeProvider, canary: str
) -> None:
    llm_id = create_llm("moved", secret=canary)
    before = len(provider.requests)
    refused = cli("llm", "update", "moved", "--endpoint", "http://127.0.0.2:9/v1")
    assert refused.exit_code == ExitCode.USAGE and refused.stdout == ""
    assert ("a stored secret is only sent where it was given: give the secret again with "
            "--secret-stdin or --secret-env") in refused.stderr
    refused_type = cli("llm", "update", llm_id, "--type", "OTHER")
    assert refused_type.exit_code == ExitCode.USAGE and "provider type" in refused_type.stderr
    shown = cli("llm", "show", llm_id, "--json")
    assert '"endpoint": "' + provider.endpoint("ok") in shown.stdout  # nothing was sent

    # The same origin, another path: no secret needed. The official endpoint: none either.
    assert cli("llm", "update", llm_id, "--endpoint", provider.endpoint("anykey")).exit_code == 0
    assert cli("llm", "update", llm_id, "--endpoint", "https://api.openai.com/v1").exit_code == 0
    moved = cli("llm", "update", llm_id, "--endpoint", provider.endpoint("ok"),
                "--secret-env", "NEW_SECRET", NEW_SECRET=GOOD_KEY)
    assert moved.exit_code == 0, moved.stderr
    assert cli("llm", "validate", "moved").exit_code == 0
    assert all(canary not in str(r) for r in provider.requests[before:])
    for result in (refused, refused_type, moved):
        assert canary not in result.output and GOOD_KEY not in result.output
