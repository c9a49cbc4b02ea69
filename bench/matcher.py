"""Benchmark of the matcher's PDQ index against threatexchange's PDQIndex and FAISS flat.

Run from the repository root: ``.venv/bin/python -m bench.matcher [--sizes 1000000,...]``.
Everything runs on one core (CPU affinity + OMP_NUM_THREADS=1), one index at a time, on
the same bank and the same 1,000 queries (half planted within distance 31 of a banked
hash, half random). FAISS IndexBinaryFlat is exhaustive, so its batch answer is the
ground truth for recall. Prints a table; writes ``bench/results/matcher.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench._pdq_data import clustered_bank, make_queries, uniform_bank
from bench._peers import (
    Contender,
    FaissFlatContender,
    HavenContender,
    ThreatExchangeContender,
)
from services.matcher.index.bits import Words

RESULTS = Path(__file__).resolve().parent / "results" / "matcher.json"
QUERIES = 1000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(
    contender: Contender, bank: Words, queries: Words, truth: list[set[int]] | None, singles: int
) -> tuple[dict[str, Any], list[set[int]]]:
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    contender.build(bank)
    build_s = time.perf_counter() - start
    rss_delta = rss_bytes() - before
    latencies, cpu_times = [], []
    for query in queries[:singles]:
        start, cpu_start = time.perf_counter(), time.thread_time()
        contender.query_one(query)
        latencies.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - cpu_start)
    start = time.perf_counter()
    batch = contender.query_batch(queries)
    batch_s = time.perf_counter() - start
    truth = batch if truth is None else truth
    expected = sum(len(t) for t in truth)
    hit = sum(len(f & t) for f, t in zip(batch, truth, strict=True))
    extra = sum(len(f - t) for f, t in zip(batch, truth, strict=True))
    lat_ms = np.array(latencies) * 1e3
    nbytes = contender.nbytes()
    row = {
        "index": contender.name,
        "build_s": round(build_s, 2),
        "single_qps": round(len(lat_ms) / (lat_ms.sum() / 1e3), 1),
        "single_queries_timed": len(lat_ms),
        "batch1000_qps": round(len(queries) / batch_s, 1),
        "p50_ms": round(float(np.percentile(lat_ms, 50)), 3),
        "p99_ms": round(float(np.percentile(lat_ms, 99)), 3),
        # CPU time of this thread: the index's own cost, without time the shared box's
        # scheduler gave to other processes (wall p99 above includes that).
        "p99_cpu_ms": round(float(np.percentile(np.array(cpu_times) * 1e3, 99)), 3),
        "bytes_per_hash_arrays": None if nbytes is None else round(nbytes / len(bank), 1),
        "bytes_per_hash_rss": round(rss_delta / len(bank), 1),
        "recall": round(hit / expected, 6) if expected else 1.0,
        "false_positives": extra,
        "true_matches": expected,
    }
    return row, batch


def run(
    size: int, kind: str, args: argparse.Namespace, done: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(size + len(kind))
    bank = uniform_bank(rng, size) if kind == "uniform" else clustered_bank(rng, size)
    queries = make_queries(rng, bank, QUERIES)
    # the exhaustive index always runs first: its answer is the recall oracle
    contenders: list[tuple[Contender, int]] = [(FaissFlatContender(), args.flat_singles)]
    if "haven" in args.contenders:
        contenders += [(HavenContender(m), QUERIES) for m in args.tables]
    if "threatexchange" in args.contenders and size <= args.peer_max:
        contenders.append((ThreatExchangeContender(), QUERIES))
    rows, truth = [], None
    for contender, singles in contenders:
        row, found = measure(contender, bank, queries, truth, singles)
        truth = found if truth is None else truth
        row.update(size=size, kind=kind)
        rows.append(row)
        print_row(row, flush=True)
        done.append(row)
        save(args.out, done)
        del contender
        gc.collect()
    return rows


def save(path: Path, rows: list[dict[str, Any]]) -> None:
    """Written after every row, so a long run that is stopped keeps what it measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"queries": QUERIES, "radius": 31, "rows": rows}, indent=1))


COLUMNS = [
    ("kind", 9), ("size", 9), ("index", 26), ("single_qps", 10), ("batch1000_qps", 13),
    ("p50_ms", 8), ("p99_ms", 8), ("p99_cpu_ms", 8), ("build_s", 8), ("bytes_per_hash_arrays", 9),
    ("bytes_per_hash_rss", 9), ("recall", 7), ("false_positives", 4),
]  # fmt: skip


def print_row(row: dict[str, Any] | None, flush: bool = False) -> None:
    if row is None:
        print(" ".join(f"{name[:width]:>{width}}" for name, width in COLUMNS))
        return
    print(" ".join(f"{row[name]!s:>{width}}"[-width:] for name, width in COLUMNS), flush=flush)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--kinds", default="uniform,clustered")
    parser.add_argument("--tables", default="16,12", help="Haven MIH table counts to try")
    parser.add_argument("--peer-max", type=int, default=1_000_000,
                        help="largest bank given to threatexchange PDQIndex (its build is slow)")  # fmt: skip
    parser.add_argument("--flat-singles", type=int, default=100,
                        help="single queries timed on the brute-force FAISS index")  # fmt: skip
    parser.add_argument("--contenders", default="haven,threatexchange",
                        help="besides the FAISS flat oracle: haven, threatexchange")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--cpu", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one 100k uniform bank (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.kinds, args.tables, args.peer_max = "100000", "uniform", "16", 100_000
    args.tables = [int(t) for t in args.tables.split(",")]
    os.sched_setaffinity(0, {args.cpu})
    faiss.omp_set_num_threads(1)
    print_row(None)
    args.contenders = set(args.contenders.split(","))
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            run(size, kind, args, rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
