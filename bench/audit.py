"""Audit log benchmark: durable append throughput and proof latency.

Why: the audit consumer must keep up with every haven.* topic while fsyncing each
batch, and auditors' proof requests must stay fast as the log grows. The ceiling
row is a plain append-only file written with the same bytes and the same
write+fdatasync per batch, so the gap shows what the Merkle log itself costs.

Two rows measure the wired service path rather than the bare log: ``service path`` feeds
Kafka-shaped messages (JSON bytes, coordinates) through the worker's ``entry_of`` and
``AuditLog.append`` with positions, batch 1000, no broker; ``--kafka`` adds
``kafka -> log``: the real ``AuditWorker`` catching up on N messages pre-produced to a
fresh namespace on a real broker (consume, decode, append, fsync, checkpoints).

Run: ``.venv/bin/python -m bench.audit [--quick] [--dir DIR] [--kafka]`` (the local broker).
Prints a table, then a JSON summary (also written to bench/results/audit.json).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services.audit.domain import SourceMessage, entry_of
from services.audit.log.entry import Entry
from services.audit.log.keys import keygen
from services.audit.log.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from services.audit.log.note import Signer
from services.audit.log.storage import TopicPartition
from services.audit.log.tlog import AuditLog

RESULTS = Path(__file__).parent / "results" / "audit.json"


def make_entry(offset: int) -> Entry:
    return Entry(
        topic="haven.hashlist.v1",
        partition=offset % 6,
        offset=offset // 6,
        key=f"pdq:{offset:064x}",
        event={
            "event_id": f"00000000-0000-4000-8000-{offset:012x}",
            "schema_version": 1,
            "occurred_at": "2025-01-01T00:00:00Z",
            "signal": "pdq",
            "value": f"{offset:064x}",
            "state": "active",
            "refcount": 1,
        },
        kafka_timestamp_ms=1_735_689_600_000 + offset,
        appended_at_ms=1_735_689_600_500 + offset,
    )


SIGNER = Signer.generate("bench.haven/audit")


def bench_append(directory: Path, batch: int, total: int, budget_s: float) -> dict[str, float]:
    """Entries/s through AuditLog.append (encode, frame, write, fdatasync, tree update)."""
    signer = SIGNER
    done = 0
    with AuditLog(directory, signer=signer) as log:
        start = time.perf_counter()
        while done < total and time.perf_counter() - start < budget_s:
            log.append([make_entry(done + i) for i in range(batch)])
            done += batch
        elapsed = time.perf_counter() - start
        log.sign_checkpoint()
    return {"entries": done, "seconds": elapsed, "per_s": done / elapsed}


def bench_ceiling(path: Path, batch: int, total: int, budget_s: float) -> dict[str, float]:
    """The same canonical bytes, length-prefixed, appended with one fdatasync per batch."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    done = 0
    try:
        start = time.perf_counter()
        while done < total and time.perf_counter() - start < budget_s:
            chunk = []
            for i in range(batch):
                data = make_entry(done + i).encode()
                chunk.append(len(data).to_bytes(4, "big") + data)
            os.write(fd, b"".join(chunk))
            os.fdatasync(fd)
            done += batch
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return {"entries": done, "seconds": elapsed, "per_s": done / elapsed}


def bench_service_path(
    directory: Path, batch: int, total: int, budget_s: float
) -> dict[str, float]:
    """Entries/s from Kafka-shaped messages through the worker's mapping and append."""
    values = [json.dumps(make_entry(i).event).encode() for i in range(batch)]
    done = 0
    with AuditLog(directory, signer=SIGNER) as log:
        start = time.perf_counter()
        while done < total and time.perf_counter() - start < budget_s:
            now_ms = int(time.time() * 1000)
            messages = [
                SourceMessage("haven.hashlist.v1", 0, done + i, b"pdq:k", values[i], now_ms)
                for i in range(batch)
            ]
            entries = [entry_of(m, appended_at_ms=now_ms) for m in messages]
            log.append(entries, {TopicPartition("haven.hashlist.v1", 0): done + batch})
            done += batch
        elapsed = time.perf_counter() - start
    return {"entries": done, "seconds": elapsed, "per_s": done / elapsed}


def bench_kafka(directory: Path, total: int) -> dict[str, float]:
    """The real AuditWorker catching up on ``total`` messages already on the local broker."""
    from bench import _stack
    from services.audit.metrics import AuditMetrics
    from services.audit.settings import AuditSettings
    from services.audit.worker import AuditWorker
    from services.common.kafka import EventProducer

    namespace = f"bench{os.getpid()}{random.randrange(10**6)}"
    producer = EventProducer(_stack.prepared(namespace))
    topic = f"{namespace}.haven.hashlist.v1"
    futures = [
        producer.produce(topic, f"pdq:{i}", json.dumps(make_entry(i).event).encode())
        for i in range(total)
    ]
    for future in futures:
        future.result(timeout=120)
    keygen(name="bench.haven/audit", path=directory / "key")
    settings = AuditSettings(
        **_stack.service_settings("audit"),
        kafka_namespace=namespace,
        log_dir=directory / "log",
        signing_key_file=directory / "key",
    )
    worker = AuditWorker(settings, AuditMetrics.create(), producer)
    thread = threading.Thread(target=worker.run, daemon=True)
    start = time.perf_counter()
    thread.start()
    while worker.log.size < total and time.perf_counter() - start < 300:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    done = worker.log.size
    worker.stop()
    thread.join(30)
    producer.close()
    return {"entries": done, "seconds": elapsed, "per_s": done / elapsed}


def _percentiles(samples: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_us": qs[49] * 1e6, "p99_us": qs[98] * 1e6}


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    gc.collect()
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_proofs(tree: MerkleTree, n: int, rng: random.Random) -> dict[str, dict[str, float]]:
    size = tree.size
    root = tree.root()
    idx = [rng.randrange(size) for _ in range(n)]
    old = [rng.randrange(1, size) for _ in range(n)]
    it_i, it_c = iter(idx), iter(old)
    inclusion = _timed(lambda: tree.inclusion_proof(next(it_i), size), n)
    consistency = _timed(lambda: tree.consistency_proof(next(it_c), size), n)
    i, m = idx[0], old[0]
    proof = tree.inclusion_proof(i, size)
    assert verify_inclusion(index=i, size=size, leaf_hash=tree.leaf_hash(i), proof=proof, root=root)
    cproof = tree.consistency_proof(m, size)
    assert verify_consistency(
        old_size=m, new_size=size, old_root=tree.root(m), new_root=root, proof=cproof
    )
    verify = _timed(
        lambda: verify_inclusion(
            index=i, size=size, leaf_hash=tree.leaf_hash(i), proof=proof, root=root
        ),
        n,
    )
    return {
        "inclusion": _percentiles(inclusion),
        "consistency": _percentiles(consistency),
        "verify_inclusion": _percentiles(verify),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI smoke run)")
    parser.add_argument("--dir", type=Path, help="where to write logs (default: a temp dir)")
    parser.add_argument("--kafka", action="store_true", help="add the local broker -> log row")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    base = Path(tempfile.mkdtemp(prefix="audit-bench-", dir=args.dir))
    rng = random.Random(1)
    summary: dict[str, object] = {"quick": args.quick}
    rows: list[tuple[str, str, str]] = []
    try:
        appends: dict[str, object] = {}
        for batch, total, budget in ((1, 5000, 10.0), (100, 100_000, 20.0), (1000, 200_000, 30.0)):
            total //= scale
            log = bench_append(base / f"log-{batch}", batch, total, budget)
            ceiling = bench_ceiling(base / f"plain-{batch}.bin", batch, total, budget)
            appends[f"batch_{batch}"] = {"audit_log": log, "plain_file": ceiling}
            rows.append(
                (f"append batch={batch}", f"{log['per_s']:,.0f}/s", f"{ceiling['per_s']:,.0f}/s")
            )
        summary["appends"] = appends
        wired = bench_service_path(base / "service", 1000, 200_000 // scale, 30.0)
        summary["service_path"] = wired
        rows.append(("service path batch=1000", f"{wired['per_s']:,.0f}/s", ""))
        if args.kafka:
            through = bench_kafka(base, 100_000 // scale)
            summary["kafka_to_log"] = through
            rows.append((f"kafka -> log {through['entries']:,}", f"{through['per_s']:,.0f}/s", ""))

        t = time.perf_counter()
        with AuditLog(base / "log-1000", signer=SIGNER) as reopened_log:
            # reopen cost: scan entries, check leaf tail, rebuild tree levels
            reopened = reopened_log.size
        summary["reopen_seconds"] = time.perf_counter() - t
        rows.append((f"reopen {reopened:,} entries", f"{summary['reopen_seconds']:.2f}s", ""))

        proofs: dict[str, object] = {}
        for size in (100_000 // scale, 1_000_000 // scale):
            # Distinct synthetic leaf hashes; the tree is built exactly as AuditLog does at open.
            packed = b"".join(leaf_hash(i.to_bytes(8, "big")) for i in range(size))
            t = time.perf_counter()
            tree = MerkleTree.from_packed(packed)
            build = time.perf_counter() - t
            result = bench_proofs(tree, 2000, rng)
            proofs[str(size)] = {"tree_build_seconds": build, **result}
            for kind in ("inclusion", "consistency", "verify_inclusion"):
                p = result[kind]
                rows.append(
                    (f"{kind} n={size:,}", f"p50 {p['p50_us']:.0f}us", f"p99 {p['p99_us']:.0f}us")
                )
        summary["proofs"] = proofs
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"{'measure':<32}{'audit log':>16}{'plain file / p99':>20}")
    for name, a, b in rows:
        print(f"{name:<32}{a:>16}{b:>20}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
