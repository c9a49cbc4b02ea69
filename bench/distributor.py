"""Distributor throughput: a 1M-entry full sync through the pull feed, and webhook fan-out.

How it is measured (one process, real HTTP, real Kafka for the delivery records):

- **populate**: the ordered ``HashListView`` is filled directly from synthetic hash-list
  values (``HashListEntry`` JSON, half PDQ and half MD5, as images give), through the same
  ``entry_from_hashlist`` the Kafka reader uses; reading them off the topic is not part of
  the figure (``read`` below times that parse step alone).
- **full sync**: the real distributor app routes (feed + admin) served by uvicorn on
  loopback; one platform pulls every page with ``GET /v1/feed`` at the maximum page size
  until ``has_more`` is false, parsing every page as JSON; every page is recorded as a
  ``DeliveryRecorded`` on ``haven.deliveries.v1`` (a bench namespace on the local broker).
- **webhook fan-out**: 10 platforms, each with its own local receiver (a threaded
  ``http.server``), served by the real ``FanOutWorker`` dispatchers from the same view;
  timed until every dispatcher's cursor reached the end of the list. Entries/s counts
  entries delivered summed over platforms.

Prints a table; writes ``bench/results/distributor.json``.
Run: ``.venv/bin/python bench/distributor.py [--entries 1000000] [--fanout-entries 100000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _stack  # noqa: E402
from schemas.events import Channel, PlatformSnapshot  # noqa: E402
from schemas.platform_keys import PlatformDirectory, new_api_key  # noqa: E402
from schemas.signals import SignalType  # noqa: E402
from services.common.kafka import EventProducer  # noqa: E402
from services.distributor.adapters.fanout import FanOutWorker  # noqa: E402
from services.distributor.api import feed  # noqa: E402
from services.distributor.domain.feed import CursorCodec  # noqa: E402
from services.distributor.domain.view import HashListView, entry_from_hashlist  # noqa: E402
from services.distributor.metrics import DistributorMetrics  # noqa: E402
from services.distributor.operations import Distributor  # noqa: E402
from services.distributor.settings import DistributorSettings  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "distributor.json"
COLUMNS = (("step", 22), ("entries", 10), ("seconds", 9), ("entries/s", 11), ("note", 46))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def hashlist_values(count: int) -> list[bytes]:
    now = "2026-01-01T00:00:00Z"  # thousands share one timestamp: the cursor must not care
    values = []
    for sequence in range(1, count + 1):
        signal = "pdq" if sequence % 2 else "md5"
        value = f"{sequence:064x}" if signal == "pdq" else f"{sequence:032x}"
        values.append(
            json.dumps(
                {
                    "type": "HashListEntry",
                    "event_id": str(uuid.uuid4()),
                    "schema_version": 1,
                    "occurred_at": now,
                    "signal": signal,
                    "value": value,
                    "frames": None,
                    "status": "withdrawn" if sequence % 97 == 0 else "active",
                    "refcount": 1,
                    "holders": [f"case-{sequence}"],
                    "first_seen": now,
                    "last_changed": now,
                    "sequence": sequence,
                }
            ).encode()
        )
    return values


def row(step: str, entries: int, seconds: float, note: str = "") -> dict[str, Any]:
    return {
        "step": step,
        "entries": entries,
        "seconds": round(seconds, 2),
        "entries/s": int(entries / seconds) if seconds else 0,
        "note": note,
    }


def print_row(values: dict[str, Any] | None) -> None:
    if values is None:
        print(" ".join(f"{name:>{width}}" for name, width in COLUMNS))
        return
    print(" ".join(f"{values[name]!s:>{width}}"[-width:] for name, width in COLUMNS), flush=True)


def platform(
    platform_id: str, channels: list[Channel], url: str | None = None
) -> tuple[PlatformSnapshot, str]:
    key, stored = new_api_key()
    snapshot = PlatformSnapshot(
        platform_id=platform_id,
        name=platform_id,
        signals=list(SignalType),
        channels=channels,
        webhook_url=url,
        api_keys=[stored],
    )
    return snapshot, key


def serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def full_sync(url: str, key: str, limit: int) -> tuple[int, int, float]:
    entries = pages = 0
    cursor = ""
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        while True:
            page = client.get(f"{url}/v1/feed", params={"cursor": cursor, "limit": limit}).json()
            entries += len(page["entries"])
            pages += 1
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    return entries, pages, time.perf_counter() - started


class Counting(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        count = body.count(b'"sequence":')
        with Counting.lock:
            Counting.received += count
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--fanout-entries", type=int, default=100_000)
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quick", action="store_true", help="100k / 10k entries (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.fanout_entries = 100_000, 10_000

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    admin = _stack.prepared(namespace)
    settings = DistributorSettings(
        **_stack.service_settings("distributor"),
        kafka_namespace=namespace,
        fanout_batch_size=500,
        fanout_idle_s=0.05,
        feed_max_limit=5000,
    )
    metrics = DistributorMetrics.create()
    producer = EventProducer(admin)
    rows: list[dict[str, Any]] = []
    print_row(None)

    raw = hashlist_values(args.entries)
    started = time.perf_counter()
    parsed = [entry_from_hashlist(value) for value in raw]
    rows.append(
        row(
            "read (parse)",
            len(parsed),
            time.perf_counter() - started,
            "HashListEntry JSON → view entry",
        )
    )
    print_row(rows[-1])
    del raw
    view = HashListView()
    started = time.perf_counter()
    view.apply_all(parsed)
    view.advance(view.max_seen)
    rows.append(
        row("populate view", len(view), time.perf_counter() - started, "sorted sequences + lines")
    )
    print_row(rows[-1])
    del parsed

    directory = PlatformDirectory()
    puller, key = platform("bench-pull", [Channel.PULL])
    directory.apply(puller)
    fanout = FanOutWorker(
        settings=settings,
        view=view,
        directory=directory,
        producer=producer,
        metrics=metrics,
        view_ready=lambda: True,
    )
    app = FastAPI()
    app.state.distributor = Distributor(
        settings=settings,
        producer=producer,
        directory=directory,
        view=view,
        cursors=CursorCodec(b"bench"),
        fanout=fanout,
        metrics=metrics,
    )
    app.include_router(feed.router)
    server, url = serve(app)
    entries, pages, seconds = full_sync(url, key, settings.feed_max_limit)
    rows.append(
        row(
            "full sync (pull)",
            entries,
            seconds,
            f"{pages} pages of {settings.feed_max_limit}, HTTP+JSON",
        )
    )
    print_row(rows[-1])

    # Webhook fan-out over the first ``fanout_entries`` of the list.
    small = HashListView()
    small.apply_all(entry_from_hashlist(v) for v in hashlist_values(args.fanout_entries))
    small.advance(small.max_seen)
    receivers = [ThreadingHTTPServer(("127.0.0.1", 0), Counting) for _ in range(args.receivers)]
    for receiver in receivers:
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = PlatformDirectory()
    for n, receiver in enumerate(receivers):
        snapshot, _ = platform(
            f"bench-hook-{n}", [Channel.WEBHOOK], f"http://127.0.0.1:{receiver.server_address[1]}/"
        )
        hooks.apply(snapshot)
    pusher = FanOutWorker(
        settings=settings,
        view=small,
        directory=hooks,
        producer=producer,
        metrics=metrics,
        view_ready=lambda: True,
    )
    started = time.perf_counter()
    threading.Thread(target=pusher.run, daemon=True).start()
    target = len(small) * args.receivers
    deadline = time.monotonic() + 600
    while Counting.received < target and time.monotonic() < deadline:
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    pusher.stop()
    rows.append(
        row(
            "webhook fan-out",
            Counting.received,
            seconds,
            f"{args.receivers} receivers × {len(small)} entries, batches of 500",
        )
    )
    print_row(rows[-1])
    server.should_exit = True
    producer.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    summary = {"entries": args.entries, "max_rss_mb": rss_mb, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
