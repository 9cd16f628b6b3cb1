"""The provider stand-in (``tests/support/fake_provider.py``) in a process of its own.

Its own process, so that its request threads do not compete with the benchmark's threads
(screen polling, load-generating clients) for the GIL, which would inflate what is measured,
and so that its CPU time can be read apart from theirs::

    with provider_process("slow", 50, valid_key="sk-bench") as provider:
        provider.endpoint, provider.pid
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Reads the key it accepts from its stdin's first line, prints the endpoint of the scenario
#: named by its arguments, and serves until its stdin closes.
PROVIDER_PROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.support.fake_provider import FakeProvider
with FakeProvider(valid_keys={sys.stdin.readline().strip()}) as provider:
    print(provider.endpoint(*sys.argv[2:]), flush=True)
    sys.stdin.read()
"""


@dataclass(frozen=True)
class ProviderProcess:
    """Where the running stand-in answers, and its pid."""

    endpoint: str
    pid: int


@contextlib.contextmanager
def provider_process(scenario: str, *params: object, valid_key: str
                     ) -> Iterator[ProviderProcess]:
    """The stand-in in a child process, accepting ``valid_key``; stopped on leaving."""
    argv = [sys.executable, "-c", PROVIDER_PROCESS, str(ROOT), scenario,
            *(str(param) for param in params)]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(valid_key + "\n")
        child.stdin.flush()
        endpoint = child.stdout.readline().strip()
        if not endpoint:
            raise RuntimeError("the provider stand-in did not start")
        yield ProviderProcess(endpoint, child.pid)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(10)
