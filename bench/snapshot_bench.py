"""Snapshot store benchmark: what the first frame pays to paint a last-known list.

Times, for 100 and 10,000 configurations, ``SnapshotStore.load`` (read, parse, check, build
the rows) and ``save`` (serialize, write, fsync, replace), plus the file's size, and the cost
of importing the snapshot modules in a fresh interpreter (the load path imports the standard
library only: no pydantic).

    python bench/snapshot_bench.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flashback_tui.snapshot import SnapshotKey, SnapshotRow, SnapshotStore

KEY = SnapshotKey("local", "embedded:/bench", "admin@localhost", "ws-bench")
#: Targets: a load that fits well inside the first frame.
LOAD_TARGETS = {100: 0.005, 10_000: 0.1}

#: Times the import in a fresh interpreter: in all, and beyond the standard library modules
#: any Textual app has loaded already.
IMPORT = """
import sys, time
started = time.perf_counter()
import contextlib, dataclasses, enum, hashlib, json, logging, pathlib, secrets, tomllib, typing
shared = time.perf_counter()
import flashback_tui.snapshot, flashback_tui.snapshot_identity
done = time.perf_counter()
heavy = [m for m in ("pydantic", "textual", "httpx") if m in sys.modules]
print(f"{done - started:.6f} {done - shared:.6f} {','.join(heavy) or '-'}")
"""


def rows(count: int) -> list[SnapshotRow]:
    return [SnapshotRow(f"{i:08d}-0000-4000-8000-000000000000", f"cfg-{i:05d}",
                        "ws-bench-0000-4000-8000-000000000000", "OPENAI",
                        "https://api.example.com/v1", "****abcd", ("repo-a", "repo-b"),
                        "2026-01-02T03:04:05.678000+00:00", "VALID", "", 1_767_225_600.0)
            for i in range(count)]


def median_time(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        store = SnapshotStore(Path(tmp) / "snapshots", rewrite_interval=0)
        for count, target in LOAD_TARGETS.items():
            listed = rows(count)
            save = median_time(lambda listed=listed: store.save(KEY, listed), args.rounds)
            load = median_time(lambda: store.load(KEY), args.rounds)
            size = (store.directory / f"{KEY.stem()}.json").stat().st_size
            assert len(store.load(KEY).rows) == count
            ok &= load <= target
            print(f"{count:>6} rows: load {load * 1000:7.2f} ms (target <= {target * 1000:g} ms"
                  f" {'ok' if load <= target else 'MISSED'}), save {save * 1000:7.2f} ms,"
                  f" file {size / 1024:8.1f} KiB")
    imports = [subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True,
                              check=True).stdout.split() for _ in range(5)]
    total = statistics.median(float(found[0]) for found in imports)
    own = statistics.median(float(found[1]) for found in imports)
    print(f"import flashback_tui.snapshot + snapshot_identity: {own * 1000:.1f} ms beyond the "
          f"standard library a Textual app has loaded ({total * 1000:.1f} ms in a bare "
          f"interpreter); heavy modules loaded: {imports[0][2]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
