"""The pieces of the fault-injection suite: a webhook receiver, a load generator, Kafka readers.

Everything here talks to the real services over loopback. The load generator records only
what was *answered 2xx*; that is the promise under test (an accepted submission is never lost).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from confluent_kafka import Message

from schemas.security import KafkaAccess
from services.common.catch_up import read_to_end
from tests.support import intake as intake_client

# --------------------------------------------------------------------------- webhook receiver


class WebhookReceiver:
    """A platform's webhook endpoint on loopback. ``mode``: ok, error (500), slow (times out)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.batches: list[dict[str, Any]] = []
        self.refused = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                mode = receiver.mode
                if mode == "slow":
                    time.sleep(30)
                if mode != "ok":
                    with receiver._lock:
                        receiver.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.batches.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            batches = list(self.batches)
        found: list[dict[str, Any]] = []
        for batch in batches:
            found.extend(batch["entries"])
        return found

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------- load generator


@dataclass
class Accepted:
    case_number: str
    secret: str
    pdq: str
    md5: str
    withdrawn: bool = False


@dataclass
class Load:
    """Steady submissions (and some withdrawals) against intake until stopped.

    Requests that fail during a fault are retried with the same Idempotency-Key, so a case
    whose 2xx was lost in transit is not opened twice; only 2xx answers are recorded.
    """

    intake_url: str
    rate_per_s: float = 4.0
    withdraw_every: int = 4
    accepted: list[Accepted] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _retrying(self, what: str, call: Any) -> Any:
        while not self._stop.is_set():
            try:
                return call()
            except (httpx.HTTPError, AssertionError):
                self.errors += 1
                self._stop.wait(0.5)
        return None

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set():
            started = time.monotonic()
            pdq = random.randbytes(32).hex()
            md5 = random.randbytes(16).hex()
            key = str(uuid.uuid4())
            created = self._retrying(
                "open",
                lambda pdq=pdq, md5=md5, key=key: intake_client.open_case(
                    self.intake_url,
                    [{"type": "image", "pdq": pdq, "quality": 90, "md5": md5}],
                    idempotency_key=key,
                ),
            )
            if created is None:
                return
            case = Accepted(created["case_number"], created["secret"], pdq, md5)
            self.accepted.append(case)
            count += 1
            if count % self.withdraw_every == 0:
                victim = self.accepted[-2] if len(self.accepted) > 1 else case
                done = self._retrying(
                    "withdraw",
                    lambda victim=victim: intake_client.withdraw_case(
                        self.intake_url, victim.case_number, victim.secret
                    ),
                )
                if done is None:
                    return
                victim.withdrawn = True
            self._stop.wait(max(0.0, 1.0 / self.rate_per_s - (time.monotonic() - started)))


# --------------------------------------------------------------------------- Kafka


def read_all(bootstrap: KafkaAccess, topic: str, *, timeout: float = 60.0) -> list[Message]:
    """Every committed message of ``topic`` up to its current end."""
    found: list[Message] = []
    read_to_end(bootstrap, topic, found.append, timeout=timeout)
    return found
