"""Intake benchmark: accepted cases per second and latency, beside a bare FastAPI ceiling.

Why: every accepted case costs an ALTCHA verification, a Redis replay-set write, a rate-limit
counter, an scrypt hash of the new secret, two Kafka sends acknowledged with ``acks=all`` and a
Redis write-through. The ceiling row is a bare FastAPI app on the same uvicorn settings that
parses the same body into the same pydantic model and answers 201, measured in the same run
with the same client, so the gap is what the real work costs.

Both run as separate processes on this machine (real Kafka and Redis for intake, fresh
namespace); proofs-of-work are solved before the clock starts (the client's cost, not the
server's). The scrypt of each new case secret (n=2^14, r=8: ~16 MB and tens of ms of CPU,
run off the event loop) dominates on a 2-core machine; that cost is deliberate. Run: ``.venv/bin/python bench/intake.py [--seconds 10] [--concurrency 16]``.
Prints a table, then a JSON summary (also written to bench/results/intake.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench import _stack
from deploy.local import stack as local_stack
from services.intake.adapters.pow import solve

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "intake.json"
BARE_APP = """
import uvicorn
from fastapi import FastAPI
from services.intake.api.models import CaseCreate
app = FastAPI()
@app.post("/v1/cases", status_code=201)
async def create(body: CaseCreate) -> dict[str, object]:
    return {"case_number": "HVN-00000-00000", "secret": "x" * 32, "media": []}
uvicorn.run(app, host="127.0.0.1", port={port}, access_log=False, log_level="warning")
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def body() -> dict[str, object]:
    item = {
        "type": "image",
        "pdq": random.randbytes(32).hex(),
        "quality": 90,
        "md5": random.randbytes(16).hex(),
    }
    return {"items": [item]}


async def load(
    url: str, headers: Sequence[dict[str, str]], seconds: float, workers: int
) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    stop = time.monotonic() + seconds
    queue = iter(headers)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while time.monotonic() < stop:
            extra = next(queue, None)
            if extra is None:
                return
            started = time.perf_counter()
            response = await client.post("/v1/cases", json=body(), headers=extra)
            if response.status_code == 201:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    began = time.monotonic()
    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(workers)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "accepted": len(latencies),
        "failed": failures,
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--redis", default=os.environ.get("HAVEN_REDIS_URL", "redis://127.0.0.1:16379/0")
    )
    parser.add_argument("--quick", action="store_true", help="3 s per row (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 3.0

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    _stack.prepared(namespace)
    data_dir = Path(tempfile.mkdtemp(prefix="haven-bench-intake-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")} | {
        "HAVEN_ENV": "test",
        **local_stack.kafka_service_env(),
        "HAVEN_REDIS_URL": args.redis,
        "HAVEN_KAFKA_NAMESPACE": namespace,
        "HAVEN_DATA_DIR": str(data_dir),
        "HAVEN_CLIENT_KEY_SEED": secrets.token_hex(32),
        "HAVEN_POW_HMAC_KEY": secrets.token_hex(32),
        "HAVEN_INTAKE_POW_MAX_NUMBER": "1000",
        "HAVEN_INTAKE_RATE_LIMIT_WRITES_PER_MINUTE": "10000000",
        "HAVEN_INTAKE_RATE_LIMIT_READS_PER_MINUTE": "10000000",
        "HAVEN_LOG_LEVEL": "WARNING",
    }
    intake_port, bare_port = free_port(), free_port()
    log = (data_dir / "intake.log").open("wb")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "services.intake", "--port", str(intake_port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-c", BARE_APP.replace("{port}", str(bare_port))],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    intake_url, bare_url = f"http://127.0.0.1:{intake_port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_ready(intake_url, "/readyz")
        wait_ready(bare_url, "/docs")
        budget = int(args.seconds * 400) + 200
        proofs = [
            {"X-Altcha": solve(httpx.get(f"{intake_url}/v1/challenge").json())}
            for _ in range(budget)
        ]
        asyncio.run(load(intake_url, proofs[:50], 2, 4))  # warm-up (connections, JIT caches)
        rows = {
            "bare FastAPI (ceiling)": asyncio.run(
                load(bare_url, [{}] * budget * 4, args.seconds, args.concurrency)
            ),
            "intake (PoW+Redis+Kafka acks)": asyncio.run(
                load(intake_url, proofs[50:], args.seconds, args.concurrency)
            ),
        }
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    print(f"{'endpoint':34} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for name, row in rows.items():
        print(
            f"{name:34} {row['per_second']:11.1f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f}"
            f" {int(row['failed']):7d}"
        )
    summary = {
        "benchmark": "intake",
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "results": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
