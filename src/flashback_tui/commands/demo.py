"""``flashback-tui demo traffic``: chat traffic through the gateway, to watch the dashboard move.

The repository AI API key secret comes from an environment variable (``--key-env VAR``) or
standard input (``--key-stdin``), never from the command line. The run is bounded: at most
``MAX_RPS`` requests per second, ``MAX_SECONDS`` seconds and ``MAX_REQUESTS`` requests in
all. Every third request streams. URLs that are not loopback get a warning, since the
traffic then leaves this machine (and may cost money at the provider behind the gateway).
Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from flashback_tui.commands.common import (
    CliError,
    ExitCode,
    SecretSources,
    read_credentials,
    refuse_argv_secrets,
)
from flashback_tui.net import is_loopback_url

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

DEFAULT_URL = "http://127.0.0.1:8787"
MAX_RPS = 50.0
MAX_SECONDS = 600.0
MAX_REQUESTS = 10_000
MAX_IN_FLIGHT = 32
STREAM_EVERY = 3

PROMPTS = (
    "Summarize the benefits of unit tests in one sentence.",
    "Name three colours of the rainbow.",
    "What is the capital of France?",
    "Write a haiku about terminals.",
    "Explain what an HTTP 429 status means.",
    "Give me a synonym for fast.",
)

_KEY_ADVICE = (
    "Put the repository AI API key secret in an environment variable and pass its name with "
    "--key-env VAR, or pipe it in with --key-stdin (for example "
    "`printenv FLASHBACK_AI_KEY | flashback-tui demo traffic --key-stdin`)."
)


class KeySafeCommand(click.Command):
    """Refuses a key given on the command line, with advice, before click parses anything."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            if arg == "--":
                break
            option = arg.split("=", 1)[0]
            if option in ("--key", "--api-key", "--secret"):
                raise click.UsageError(
                    f"{option} is not accepted: a key on the command line is visible to other "
                    f"users in the process list and stays in the shell history. {_KEY_ADVICE}",
                    ctx,
                )
        refuse_argv_secrets(ctx, args)
        return super().parse_args(ctx, args)


def gateway_url(url: str) -> str:
    """The gateway base (``.../v1``) of a platform URL (given with or without ``/v1``)."""
    from flashback_tui.api.models import check_endpoint

    try:
        base = check_endpoint(url)
    except ValueError as exc:
        raise click.UsageError(f"--url: {str(exc).replace('endpoint', 'the URL', 1)}"
                               ) from None
    return base if base.endswith("/v1") else f"{base}/v1"


@dataclass
class TrafficReport:
    """What a run did: outcomes by kind, and latencies of the answered calls."""

    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str = ""

    @property
    def sent(self) -> int:
        """Requests that got an outcome."""
        return sum(self.outcomes.values())

    def line(self, elapsed: float) -> str:
        """A one-line progress summary."""
        parts = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        mean = (sum(self.latencies_ms) / len(self.latencies_ms)) if self.latencies_ms else 0.0
        return f"{elapsed:5.1f}s  sent {self.sent}  ({parts or 'none yet'})  mean {mean:.0f} ms"


async def _one_call(http: httpx.AsyncClient, n: int, model: str, report: TrafficReport) -> None:
    import httpx

    body: dict[str, Any] = {"model": model,
                            "messages": [{"role": "user", "content": PROMPTS[n % len(PROMPTS)]}]}
    stream = n % STREAM_EVERY == STREAM_EVERY - 1
    started = time.perf_counter()
    try:
        if stream:
            body["stream"] = True
            async with http.stream("POST", "chat/completions", json=body) as response:
                status = response.status_code
                text = (await response.aread()).decode(errors="replace")
        else:
            response = await http.post("chat/completions", json=body)
            status, text = response.status_code, response.text
    except httpx.HTTPError as exc:
        report.outcomes["unreachable"] += 1
        reason = f"cannot reach the gateway ({type(exc).__name__})"
        report.first_error = report.first_error or reason
        return
    if status == 200:
        report.outcomes["ok"] += 1
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        return
    kind = {401: "refused key", 403: "blocked"}.get(status, f"error {status}")
    report.outcomes[kind] += 1
    if status != 403 and not report.first_error:
        report.first_error = f"{status}: {_error_message(text)}"


def _error_message(text: str) -> str:
    import json

    try:
        error = json.loads(text).get("error") or {}
        return str(error.get("message") or text)[:200]
    except (ValueError, AttributeError):
        return text[:200]


async def run_traffic(url: str, key: SecretStr, *, rps: float, seconds: float, model: str,
                      echo: Any = click.echo) -> TrafficReport:
    """Send ``rps`` requests a second for ``seconds`` seconds; stop early if the key is refused."""
    import httpx

    total = min(MAX_REQUESTS, max(1, round(rps * seconds)))
    report = TrafficReport()
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"}
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=url + "/", headers=headers, timeout=60.0,
                                 limits=limits) as http:
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        next_progress = start + 1.0

        async def guarded(n: int) -> None:
            async with gate:
                await _one_call(http, n, model, report)

        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / rps - time.monotonic()))
            if report.outcomes["refused key"] or (report.outcomes["unreachable"]
                                                  and not report.outcomes["ok"]):
                break
            task = asyncio.create_task(guarded(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if time.monotonic() >= next_progress:
                echo(report.line(time.monotonic() - start))
                next_progress += 1.0
        if tasks:
            await asyncio.gather(*tasks)
        echo(report.line(time.monotonic() - start))
    return report


@click.group()
def demo() -> None:
    """Demonstrations against a running local platform."""


@demo.command("traffic", cls=KeySafeCommand)
@click.option("--url", default=None, metavar="URL",
              help=f"Platform URL (its gateway is URL/v1). Default: $FLASHBACK_URL or "
              f"{DEFAULT_URL} (`flashback-tui serve`).")
@click.option("--key-env", metavar="VAR",
              help="Read the repository AI API key secret from the environment variable VAR.")
@click.option("--key-stdin", is_flag=True,
              help="Read the repository AI API key secret from standard input.")
@click.option("--rps", type=click.FloatRange(0.1, MAX_RPS), default=2.0, show_default=True,
              help="Requests per second.")
@click.option("--seconds", type=click.FloatRange(1, MAX_SECONDS), default=30.0,
              show_default=True, help="How long to send.")
@click.option("--model", default="gpt-4o-mini", show_default=True,
              help="Model name sent with each request (the provider must know it).")
@click.pass_context
def traffic(ctx: click.Context, url: str | None, key_env: str | None, key_stdin: bool,
            rps: float, seconds: float, model: str) -> None:
    """Send chat completions through the gateway so the dashboard has something to show.

    Uses a repository AI API key (POST /repo/{id}/ai/apikey). Every third request streams.
    At most 10,000 requests per run.
    """
    import os

    if not (key_env or key_stdin):
        raise click.UsageError(f"a key is required. {_KEY_ADVICE}", ctx)
    key, _ = read_credentials(SecretSources(key_stdin=key_stdin, key_env=key_env),
                              require_secret=False)
    assert key is not None
    obj = ctx.find_object(dict) or {}
    base = gateway_url(url or obj.get("url") or os.environ.get("FLASHBACK_URL") or DEFAULT_URL)
    if not is_loopback_url(base):
        click.echo(f"Warning: {urlsplit(base).hostname} is not a loopback address; this traffic"
                   " leaves this machine.", err=True)
    total = min(MAX_REQUESTS, max(1, round(rps * seconds)))
    click.echo(f"Sending {total} requests to {base} ({rps:g}/s for {seconds:g} s)...", err=True)
    report = asyncio.run(run_traffic(base, key, rps=rps, seconds=seconds, model=model))
    if report.outcomes["refused key"]:
        raise CliError("the gateway refused the key (401)", exit_code=ExitCode.AUTHENTICATION,
                       hint="Create a key with POST /repo/{id}/ai/apikey and pass its secret.")
    if not report.outcomes["ok"] and not report.outcomes["blocked"]:
        raise CliError(f"no request succeeded: {report.first_error or 'no answer'}",
                       exit_code=ExitCode.UNREACHABLE
                       if report.outcomes["unreachable"] else ExitCode.FAILURE)
