"""Exactly one entry per source message, through restarts and SIGKILL under load.

Each test has its own Kafka namespace and log directory, so the log must hold precisely the
messages the test produced: per partition, offsets 0..n-1, each once. After the crashes the
stopped log is checked offline with ``haven audit verify``, as an overseer would.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from schemas.security import KafkaAccess
from services.audit.log.entry import Entry
from services.audit.log.keys import load_signer
from services.audit.log.note import Signer
from services.audit.log.tlog import AuditLog
from services.common.kafka import EventProducer
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AuditRun:
    service: ServiceProcess
    namespace: str
    log_dir: Path
    signer: Signer

    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def tree_size(self) -> int:
        """The service's tree size from /metrics (0 while it is down)."""
        try:
            text = httpx.get(f"{self.service.url}/metrics", timeout=2).text
        except httpx.HTTPError:
            return 0
        for line in text.splitlines():
            if line.startswith("haven_audit_tree_size "):
                return int(float(line.split()[-1]))
        return 0

    def stored_entries(self) -> list[Entry]:
        """Every committed entry, read from the directory (the service must be stopped)."""
        with AuditLog(self.log_dir, signer=self.signer) as log:
            return log.entries(0, log.size)


@pytest.fixture
def audit_run(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str, tmp_path: Path
) -> Iterator[AuditRun]:
    namespace = new_namespace(request, "c")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=namespace,
        data_dir=tmp_path,
        extra={"HAVEN_AUDIT_CHECKPOINT_EVERY_ENTRIES": "2000"},
    )
    service = ServiceProcess("audit", env, tmp_path).start().wait_ready()
    signer = load_signer(Path(env["HAVEN_AUDIT_SIGNING_KEY_FILE"]))
    run = AuditRun(service, namespace, tmp_path / "audit" / namespace, signer)
    try:
        yield run
    finally:
        service.stop()


def produce(producer: EventProducer, topic: str, start: int, count: int) -> None:
    futures = [
        producer.produce(topic, f"k{i % 97}", b'{"type":"Flood","n":%d}' % i)
        for i in range(start, start + count)
    ]
    for future in futures:
        future.result(timeout=60)


def assert_exactly_once(entries: list[Entry], topic: str, expected: int) -> None:
    offsets: dict[int, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.topic == topic:
            offsets[entry.partition].append(entry.offset)
    total = sum(len(v) for v in offsets.values())
    assert total == expected, f"{total} entries for {expected} messages"
    for partition, seen in offsets.items():
        assert seen == list(range(len(seen))), f"partition {partition}: gaps or duplicates"


def wait_logged(run: AuditRun, count: int) -> None:
    wait_until(lambda: run.tree_size() >= count, timeout=120, interval=0.3, what=f"{count} entries")


def verify_offline(run: AuditRun) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.cli", "audit", "verify", str(run.log_dir)]
    command += ["--key", run.signer.verifier.key]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_positions_resume_without_gaps_or_duplicates_across_restart(
    audit_run: AuditRun, producer: EventProducer
) -> None:
    topic = audit_run.topic("haven.deliveries.v1")
    produce(producer, topic, 0, 300)
    wait_logged(audit_run, 300)
    audit_run.service.stop()
    produce(producer, topic, 300, 300)  # written while the audit is down
    audit_run.service.start().wait_ready()
    wait_logged(audit_run, 600)
    audit_run.service.restart()  # and once more with nothing new: nothing may be re-appended
    produce(producer, topic, 600, 1)
    wait_logged(audit_run, 601)
    audit_run.service.stop()
    assert_exactly_once(audit_run.stored_entries(), topic, 601)
    assert verify_offline(audit_run).returncode == 0


class Flood(threading.Thread):
    """Produces to ``topic`` at a steady ``rate`` (messages/s) until stopped: sustained load
    that outlasts the kills, whatever the machine's speed."""

    def __init__(self, producer: EventProducer, topic: str, rate: int = 4_000) -> None:
        super().__init__(daemon=True)
        self.producer, self.topic, self.chunk = producer, topic, rate // 10
        self.sent = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            produce(self.producer, self.topic, self.sent, self.chunk)
            self.sent += self.chunk
            self.stopping.wait(0.1)  # pacing, not waiting for anything


def test_sigkill_while_appending_under_load_loses_and_repeats_nothing(
    audit_run: AuditRun, producer: EventProducer
) -> None:
    topic = audit_run.topic("haven.matches.v1")
    flood = Flood(producer, topic)
    flood.start()
    try:
        for threshold in (4_000, 12_000):
            wait_logged(audit_run, threshold)
            assert flood.is_alive(), "the kill must land while messages keep arriving"
            audit_run.service.kill()
            audit_run.service.start().wait_ready(timeout=120)
        wait_logged(audit_run, audit_run.tree_size() + 2_000)  # appending again under load
    finally:
        flood.stopping.set()
        flood.join(timeout=120)
    total = flood.sent
    wait_logged(audit_run, total)
    audit_run.service.stop()

    assert_exactly_once(audit_run.stored_entries(), topic, total)
    report = verify_offline(audit_run)
    assert report.returncode == 0, report.stdout + report.stderr
    assert f'"entries": {total}' in report.stdout
