"""Helpers shared by the distributor's integration tests (no tests here).

A distributor process on its own namespace, an admin client, submissions produced straight
onto ``haven.submissions.v1``, and a webhook receiver thread whose behaviour a test scripts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.events import CaseOpened, CaseWithdrawn, MediaItem
from schemas.security import KafkaAccess
from schemas.signals import ImageMedia
from schemas.topics import qualified
from services.common.kafka import EventProducer
from tests.support import feed
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env

FAST_WEBHOOKS = {
    "HAVEN_DISTRIBUTOR_WEBHOOK_TIMEOUT_S": "1.0",
    "HAVEN_DISTRIBUTOR_WEBHOOK_MAX_ATTEMPTS": "30",
    "HAVEN_DISTRIBUTOR_WEBHOOK_BACKOFF_BASE_S": "0.05",
    "HAVEN_DISTRIBUTOR_WEBHOOK_BACKOFF_MAX_S": "0.3",
    "HAVEN_DISTRIBUTOR_FANOUT_IDLE_S": "0.05",
}


@dataclass
class Haven:
    """A running distributor in its own Kafka namespace."""

    service: ServiceProcess
    namespace: str
    bootstrap: KafkaAccess
    producer: EventProducer
    admin_token: str

    @property
    def url(self) -> str:
        return self.service.url

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def add_platform(self, **body: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/v1/platforms", json=body, headers=self.admin(), timeout=30
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def topic(self, name: str) -> str:
        return qualified(name, self.namespace)

    def open_case(self, case_id: str, *images: ImageMedia) -> None:
        event = CaseOpened(
            case_id=case_id,
            items=[MediaItem(media_id=f"m{i}", media=m) for i, m in enumerate(images)],
        )
        self.producer.send(self.topic("haven.submissions.v1"), case_id, event)

    def withdraw(self, case_id: str) -> None:
        self.producer.send(
            self.topic("haven.submissions.v1"), case_id, CaseWithdrawn(case_id=case_id)
        )


def image(n: int) -> ImageMedia:
    """A distinct image fingerprint per ``n``."""
    return ImageMedia(pdq=f"{n:064x}", quality=90, md5=f"{n:032x}")


@pytest.fixture(name="haven_factory")
def haven_factory_fixture(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str, tmp_path: Path
) -> Iterator[Callable[..., Haven]]:
    started: list[Haven] = []

    def start(extra: dict[str, str] | None = None) -> Haven:
        namespace = new_namespace(request, "d")
        env = service_env(
            kafka=kafka_bootstrap,
            redis=redis_url,
            namespace=namespace,
            data_dir=tmp_path,
            extra={**FAST_WEBHOOKS, **(extra or {})},
        )
        service = ServiceProcess("distributor", env, tmp_path).start().wait_ready()
        haven = Haven(
            service,
            namespace,
            kafka_bootstrap,
            EventProducer(kafka_bootstrap),
            env["HAVEN_ADMIN_TOKEN"],
        )
        started.append(haven)
        # Finalizers run last-in first-out: the service stops before its namespace (topics,
        # ACLs) is dropped, so it never runs on without its permissions.
        request.addfinalizer(haven.producer.close)
        request.addfinalizer(haven.service.stop)
        return haven

    yield start


@pytest.fixture(name="haven")
def haven_fixture(haven_factory: Callable[..., Haven]) -> Haven:
    return haven_factory()


def pull_all(
    haven: Haven, api_key: str, *, limit: int = 1000, cursor: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """Every entry the feed has after ``cursor``, and the cursor to continue from."""
    return feed.pull_all(haven.url, api_key, limit=limit, cursor=cursor)


@dataclass
class Receiver:
    """A webhook endpoint on loopback. ``script`` decides each answer: an int status, or
    ``"hang"`` to answer too late (the sender times out)."""

    script: Callable[[int], int | str] = lambda n: 200
    max_body: int | None = None  # answer 413 to a larger batch
    batches: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    signatures: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests += 1
                    n = receiver.requests
                answer = receiver.script(n)
                if receiver.max_body is not None and len(body) > receiver.max_body:
                    answer = 413
                if answer == "hang":
                    time.sleep(2.0)
                    answer = 200  # too late: the sender has given up on this attempt
                    self._reply(int(answer))
                    return
                if answer == 200:
                    with receiver.lock:
                        receiver.batches.append(json.loads(body))
                        receiver.signatures.append((self.headers["Haven-Signature"], body))
                self._reply(int(answer))

            def _reply(self, status: int) -> None:
                try:
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def entries(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for batch in self.batches for e in batch["entries"]]
