"""End-to-end benchmark: sustained submissions per second, and how long an accepted
submission takes to reach a platform's webhook and to become matchable.

Why: a submitter is protected only once platforms have the fingerprint. The figure that
matters is the time from intake's 2xx to (a) the platform's webhook receiving the entry and
(b) the matcher matching it, at a steady offered load and at saturation.

Setup: the four services as real processes on loopback against the real Kafka and Redis
(`make infra` starts those), one platform with a webhook receiver in this process, proof of
work at the test difficulty (in production the work is done on submitters' devices, not here).
The matcher is polled every 20 ms for pending MD5s in one batch, so (b) carries up to 20 ms of
polling granularity. The floor row is a bare Kafka produce → consume round trip on the same
broker, measured in the same run: the pipeline makes three such hops (submissions → hash
list → platform delivery / index), so it cannot beat about three times that.

Run: ``.venv/bin/python bench/e2e.py [--quick]``. Prints a table, then a JSON summary (also
written to bench/results/e2e.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: deploy/ and tests/support are not installed

from bench import _stack  # noqa: E402
from deploy.local import stack as local_stack  # noqa: E402
from services.common.kafka import EventProducer  # noqa: E402
from tests.reliability.harness import WebhookReceiver  # noqa: E402
from tests.support import intake as intake_client  # noqa: E402
from tests.support.infra import require_kafka  # noqa: E402
from tests.support.services import SERVICE_NAMES, ServiceProcess, service_env  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "e2e.json"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Tracker:
    """When each MD5 was accepted, reached the webhook, and first matched."""

    accepted: dict[str, float] = field(default_factory=dict)
    intake_s: list[float] = field(default_factory=list)
    webhook: dict[str, float] = field(default_factory=dict)
    matched: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def running_stack(data_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    admin = _stack.prepared(namespace)
    env = service_env(
        kafka=admin,
        redis=local_stack.REDIS_URL,
        namespace=namespace,
        data_dir=data_dir,
        extra={"HAVEN_LOG_LEVEL": "WARNING"},
    )
    services = {name: ServiceProcess(name, env, data_dir) for name in SERVICE_NAMES}
    for service in services.values():
        service.start()
    try:
        for service in services.values():
            service.wait_ready(timeout=120)
        yield services
    finally:
        for service in services.values():
            service.stop()


def watch_webhook(receiver: WebhookReceiver, tracker: Tracker, stop: threading.Event) -> None:
    seen = 0
    while not stop.is_set():
        batches = receiver.batches
        now = time.monotonic()
        while seen < len(batches):
            for entry in batches[seen]["entries"]:
                if entry["signal"] == "md5" and entry["status"] == "active":
                    tracker.webhook.setdefault(entry["value"], now)
            seen += 1
        stop.wait(0.005)


def watch_matcher(url: str, key: str, tracker: Tracker, stop: threading.Event) -> None:
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        while not stop.is_set():
            with tracker.lock:
                pending = [m for m in tracker.accepted if m not in tracker.matched][:1000]
            if pending:
                response = client.post(
                    f"{url}/v1/match",
                    json={"signals": [{"type": "md5", "value": m} for m in pending]},
                )
                now = time.monotonic()
                for md5, result in zip(pending, response.json()["results"], strict=True):
                    if result["matches"]:
                        tracker.matched.setdefault(md5, now)
            stop.wait(0.02)


def submit(intake: str, tracker: Tracker) -> None:
    md5 = random.randbytes(16).hex()
    item = {"type": "image", "pdq": random.randbytes(32).hex(), "quality": 90, "md5": md5}
    started = time.monotonic()
    intake_client.open_case(intake, [item])
    done = time.monotonic()
    with tracker.lock:
        tracker.accepted[md5] = done
        tracker.intake_s.append(done - started)


def run_load(
    services: dict[str, ServiceProcess],
    receiver: WebhookReceiver,
    key: str,
    *,
    rate: float | None,
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    tracker = Tracker()
    stop = threading.Event()
    receiver.batches.clear()
    watchers = [
        threading.Thread(target=watch_webhook, args=(receiver, tracker, stop), daemon=True),
        threading.Thread(
            target=watch_matcher, args=(services["matcher"].url, key, tracker, stop), daemon=True
        ),
    ]
    for thread in watchers:
        thread.start()
    intake = services["intake"].url
    started = time.monotonic()
    deadline = started + seconds
    with ThreadPoolExecutor(clients) as pool:
        if rate is None:

            def client() -> None:
                while time.monotonic() < deadline:
                    submit(intake, tracker)

            for future in [pool.submit(client) for _ in range(clients)]:
                future.result()
        else:
            futures = []
            next_at = started
            while next_at < deadline:
                time.sleep(max(0.0, next_at - time.monotonic()))
                futures.append(pool.submit(submit, intake, tracker))
                next_at += 1.0 / rate
            for future in futures:
                future.result()
    elapsed = time.monotonic() - started
    settle = time.monotonic() + 60
    while time.monotonic() < settle:
        with tracker.lock:
            done = all(m in tracker.webhook and m in tracker.matched for m in tracker.accepted)
        if done:
            break
        time.sleep(0.05)
    stop.set()
    webhook = [tracker.webhook[m] - t for m, t in tracker.accepted.items() if m in tracker.webhook]
    matcher = [tracker.matched[m] - t for m, t in tracker.accepted.items() if m in tracker.matched]
    return {
        "offered_per_s": rate,
        "clients": clients,
        "accepted": len(tracker.accepted),
        "accepted_per_s": len(tracker.accepted) / elapsed,
        "intake_p50_ms": pct(tracker.intake_s, 0.5) * 1000,
        "intake_p99_ms": pct(tracker.intake_s, 0.99) * 1000,
        "webhook_p50_ms": pct(webhook, 0.5) * 1000,
        "webhook_p99_ms": pct(webhook, 0.99) * 1000,
        "webhook_missing": len(tracker.accepted) - len(webhook),
        "matcher_p50_ms": pct(matcher, 0.5) * 1000,
        "matcher_p99_ms": pct(matcher, 0.99) * 1000,
        "matcher_missing": len(tracker.accepted) - len(matcher),
    }


def kafka_floor(samples: int) -> dict[str, Any]:
    """A bare produce → consume round trip on the same broker (acks=all, read_committed)."""
    topic = f"b{uuid.uuid4().hex[:10]}.haven.submissions.v1"
    admin = _stack.prepared(topic.split(".")[0])
    producer = EventProducer(admin)
    consumer = Consumer(
        admin.config()
        | {
            "group.id": f"floor-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",  # a fresh, empty topic: nothing is skipped
            "isolation.level": "read_committed",
            "fetch.wait.max.ms": 5,
        }
    )
    consumer.subscribe([topic])
    rtts: list[float] = []
    try:
        for i in range(samples):
            started = time.monotonic()
            producer.send(topic, str(i), f'{{"i": {i}}}'.encode())
            deadline = started + 30
            while time.monotonic() < deadline:
                msg = consumer.poll(1)
                if msg is not None and not msg.error() and msg.key() == str(i).encode():
                    break
            else:
                raise TimeoutError(f"message {i} did not come back within 30 s")
            rtts.append(time.monotonic() - started)
    finally:
        consumer.close()
        producer.close()
    return {"samples": samples, "p50_ms": pct(rtts, 0.5) * 1000, "p99_ms": pct(rtts, 0.99) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--rate", type=float, default=10.0, help="fixed offered load, cases/s")
    parser.add_argument("--clients", type=int, default=16, help="clients at saturation")
    args = parser.parse_args()
    seconds = 8.0 if args.quick else 30.0
    require_kafka(_stack.admin(), timeout=10)  # `make infra` starts it
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as services:
        receiver = WebhookReceiver()
        admin = services["distributor"].env["HAVEN_ADMIN_TOKEN"]
        created = httpx.post(
            f"{services['distributor'].url}/v1/platforms",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "id": "bench-social",
                "name": "Bench Social",
                "signals": ["pdq", "md5"],
                "channels": ["webhook"],
                "webhook_url": receiver.url,
            },
            timeout=30,
        )
        created.raise_for_status()
        key = created.json()["api_key"]
        print("[bench] stack ready; measuring the Kafka round-trip floor", file=sys.stderr)
        floor = kafka_floor(50 if args.quick else 300)
        print(f"[bench] fixed load: {args.rate}/s for {seconds:.0f} s", file=sys.stderr)
        fixed = run_load(
            services, receiver, key, rate=args.rate, clients=args.clients, seconds=seconds
        )
        print(f"[bench] saturation: {args.clients} clients for {seconds:.0f} s", file=sys.stderr)
        saturated = run_load(
            services, receiver, key, rate=None, clients=args.clients, seconds=seconds
        )
        receiver.close()
    rows = [("fixed load", fixed), ("saturation", saturated)]
    header = (
        f"{'scenario':<12}{'offered/s':>10}{'accepted/s':>11}{'intake p50/p99 ms':>19}"
        f"{'→ webhook p50/p99 ms':>22}{'→ matcher p50/p99 ms':>22}"
    )
    print(header)
    for name, row in rows:
        offered = f"{row['offered_per_s']:.0f}" if row["offered_per_s"] else "max"
        print(
            f"{name:<12}{offered:>10}{row['accepted_per_s']:>11.1f}"
            f"{row['intake_p50_ms']:>10.1f}/{row['intake_p99_ms']:<8.1f}"
            f"{row['webhook_p50_ms']:>13.1f}/{row['webhook_p99_ms']:<8.1f}"
            f"{row['matcher_p50_ms']:>13.1f}/{row['matcher_p99_ms']:<8.1f}"
        )
    print(
        f"{'kafka floor':<12}{'':>10}{'':>11}{floor['p50_ms']:>10.1f}/{floor['p99_ms']:<8.1f}"
        "  (one produce → consume round trip)"
    )
    summary: dict[str, Any] = {"fixed": fixed, "saturation": saturated, "kafka_round_trip": floor}
    summary["cpu_count"] = os.cpu_count()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
