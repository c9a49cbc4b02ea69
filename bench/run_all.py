"""Run every benchmark in ``bench/``, one after another, each in its own process.

``make bench`` runs them at full size (tens of minutes on the 2-core machine); ``make
bench-quick`` passes ``--quick`` to each (minutes). Each benchmark prints its own table, its
JSON summary, and the baseline or peer it is measured beside; this runner only sequences them
and says at the end which ones failed. They need the local broker and Redis (``make infra``).

Run: ``.venv/bin/python bench/run_all.py [--quick] [--only NAME,...]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Cheapest first, so a quick run shows results early.
BENCHMARKS = ("audit", "intake", "distributor", "matcher", "e2e")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick mode")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    args = parser.parse_args()
    wanted = [name for name in args.only.split(",") if name]
    unknown = sorted(set(wanted) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown!r}; choose from {list(BENCHMARKS)}")
    outcomes: list[tuple[str, int, float]] = []
    for name in wanted:
        quick = ["--quick"] if args.quick else []
        command = [sys.executable, "-m", f"bench.{name}", *quick]  # bench/ imports bench._*
        print(f"\n=== bench/{name}.py {'--quick' if args.quick else ''}", flush=True)
        started = time.monotonic()
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        outcomes.append((name, code, time.monotonic() - started))
    print("\n| benchmark | exit | seconds |\n|---|---|---|")
    for name, code, seconds in outcomes:
        print(f"| {name} | {code} | {seconds:.0f} |")
    failed = [name for name, code, _ in outcomes if code != 0]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
