"""Fault injection under steady load, then a full reconciliation.

Under a load of submissions and withdrawals through intake (loopback), one after another:

1. the Kafka broker is killed with SIGKILL and restarted, three times;
2. each service is killed with SIGKILL and restarted, one at a time;
3. Redis is killed and restarted empty;
4. the platform's webhook endpoint answers 500, then times out, then recovers;
5. a poison message is injected into every consumed topic.

Then every submission answered 2xx must be in the hash list, in the platform's webhook
deliveries, pull feed and Kafka topic, in the matcher and in the audit log; every withdrawal
likewise; each effect once (a repeat only as a redelivery carrying the same sequence and id);
and the DLQs hold exactly the injected poison. The counts are printed (`pytest -s` shows them;
CI logs them on failure).

The suite runs in its own Kafka namespace so the counts are exact, and needs the local broker
and Redis that `make test` starts (it kills and restarts them).
"""

from __future__ import annotations

import json
import signal
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local import stack as local_stack
from schemas.security import KafkaAccess
from schemas.topics import CONSUMED, qualified
from services.common.kafka import EventProducer
from tests.integration.conftest import message_headers
from tests.reliability.harness import Load, WebhookReceiver, read_all
from tests.support.feed import pull_all
from tests.support.infra import require_kafka, require_local_broker
from tests.support.namespace import new_namespace
from tests.support.services import SERVICE_NAMES, ServiceProcess, namespace_secrets, service_env
from tests.support.wait import wait_until

pytestmark = pytest.mark.reliability

PLATFORM = "reliable-social"


def admin_header(namespace: str) -> str:
    return f"Bearer {namespace_secrets(namespace)['HAVEN_ADMIN_TOKEN']}"


@dataclass
class Rig:
    services: dict[str, ServiceProcess]
    namespace: str
    bootstrap: KafkaAccess
    receiver: WebhookReceiver
    api_key: str
    data_dir: Path

    def url(self, name: str) -> str:
        return self.services[name].url

    def topic(self, name: str) -> str:
        return qualified(name, self.namespace)


@pytest.fixture(scope="module")
def rig(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Rig]:
    require_local_broker(kafka_bootstrap, "fault injection")
    namespace = new_namespace(request, "r")
    data_dir = tmp_path_factory.mktemp("reliability")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=namespace,
        data_dir=data_dir,
        extra={"HAVEN_DISTRIBUTOR_WEBHOOK_TIMEOUT_S": "2"},
    )
    services = {name: ServiceProcess(name, env, data_dir) for name in SERVICE_NAMES}
    receiver = WebhookReceiver()
    for service in services.values():
        service.start()
    try:
        for service in services.values():
            service.wait_ready(timeout=120)
        created = httpx.post(
            f"{services['distributor'].url}/v1/platforms",
            headers={"Authorization": admin_header(namespace)},
            json={
                "id": PLATFORM,
                "name": "Reliable Social",
                "signals": ["pdq", "md5"],
                "channels": ["pull", "webhook", "kafka"],
                "webhook_url": receiver.url,
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        yield Rig(
            services, namespace, kafka_bootstrap, receiver, created.json()["api_key"], data_dir
        )
    finally:
        for service in services.values():
            service.stop()
        receiver.close()


def progress(load: Load, more: int, what: str) -> None:
    """Wait until the load generator has had ``more`` further submissions accepted."""
    target = len(load.accepted) + more
    wait_until(lambda: len(load.accepted) >= target, timeout=180, what=f"load to resume {what}")


def inject_poison(rig: Rig) -> dict[str, set[str]]:
    """One unparseable message on every consumed topic; returns topic → {"topic/p/offset"}."""
    producer = EventProducer(rig.bootstrap)
    injected: dict[str, set[str]] = defaultdict(set)
    try:
        for spec in CONSUMED:
            topic = rig.topic(spec.name)
            msg = producer.send(topic, b"poison", b"\x00not an event " + uuid.uuid4().bytes)
            injected[topic].add(f"{topic}/{msg.partition()}/{msg.offset()}")
    finally:
        producer.close()
    return injected


def restart_broker(rig: Rig) -> None:
    local_stack.stop("kafka", sig=signal.SIGKILL, timeout=30)
    local_stack.ensure_kafka()
    require_kafka(rig.bootstrap, timeout=90)


def restart_redis() -> None:
    local_stack.stop("redis", sig=signal.SIGKILL, timeout=30)
    local_stack.ensure_redis()


# --------------------------------------------------------------------------- what each place holds


def latest_by_key(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = f"{entry['signal']}:{entry['value']}"
        if key not in latest or entry["sequence"] > latest[key]["sequence"]:
            latest[key] = entry
    return latest


def hash_list(rig: Rig) -> dict[str, dict[str, Any]]:
    entries = [
        json.loads(msg.value() or b"")
        for msg in read_all(rig.bootstrap, rig.topic("haven.hashlist.v1"))
        if msg.value() and msg.key() != b"poison"
    ]
    return latest_by_key([e for e in entries if e.get("type") == "HashListEntry"])


def pull_feed(rig: Rig) -> list[dict[str, Any]]:
    entries, _ = pull_all(rig.url("distributor"), rig.api_key)
    return entries


def platform_topic(rig: Rig) -> list[dict[str, Any]]:
    return [
        json.loads(msg.value() or b"")
        for msg in read_all(rig.bootstrap, rig.topic(f"haven.platform.{PLATFORM}.v1"))
        if msg.value()
    ]


def matched_md5s(rig: Rig, md5s: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(md5s), 1000):
        chunk = md5s[start : start + 1000]
        response = httpx.post(
            f"{rig.url('matcher')}/v1/match",
            headers={"Authorization": f"Bearer {rig.api_key}"},
            json={"signals": [{"type": "md5", "value": v} for v in chunk]},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        for value, result in zip(chunk, response.json()["results"], strict=True):
            if result["matches"]:
                found.add(value)
    return found


def audit_positions(rig: Rig) -> Counter[str]:
    """How many audit entries record each source message (``topic/partition/offset``)."""
    headers = {"Authorization": f"Bearer {namespace_secrets(rig.namespace)['HAVEN_AUDITOR_TOKEN']}"}
    url = f"{rig.url('audit')}/v1/audit/entries"
    first = httpx.get(url, params={"start": 0, "end": 1}, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    size = int(first.json()["tree_size"])
    positions: Counter[str] = Counter()
    for start in range(0, size, 1000):
        page = httpx.get(
            url,
            params={"start": start, "end": min(size, start + 1000)},
            headers=headers,
            timeout=30,
        )
        assert page.status_code == 200, page.text
        for row in page.json()["entries"]:
            entry = row["entry"]
            positions[f"{entry['topic']}/{entry['partition']}/{entry['offset']}"] += 1
    return positions


def dlq_sources(rig: Rig, topic: str) -> set[str]:
    return {
        message_headers(msg)["haven.dlq.source"].decode()
        for msg in read_all(rig.bootstrap, topic + ".dlq")
    }


# --------------------------------------------------------------------------- the suite


@pytest.mark.timeout(1500)
def test_nothing_accepted_is_lost_through_faults(rig: Rig) -> None:
    load = Load(rig.url("intake")).start()
    try:
        progress(load, 8, "at the start")
        injected = inject_poison(rig)

        for round_ in range(3):
            restart_broker(rig)
            progress(load, 4, f"after broker restart {round_ + 1}")

        for name in SERVICE_NAMES:
            rig.services[name].kill()
            rig.services[name].start()
            rig.services[name].wait_ready(timeout=180)
            progress(load, 4, f"after {name} was killed")

        restart_redis()
        progress(load, 4, "after Redis restarted empty")

        rig.receiver.mode = "error"
        progress(load, 8, "while the webhook answers 500")
        rig.receiver.mode = "slow"
        progress(load, 4, "while the webhook times out")
        rig.receiver.mode = "ok"
        progress(load, 4, "after the webhook recovered")
    finally:
        load.stop()

    accepted = load.accepted
    active = {c.md5 for c in accepted if not c.withdrawn}
    withdrawn = {c.md5 for c in accepted if c.withdrawn}
    expected = {f"md5:{m}": "active" for m in active} | {f"md5:{m}": "withdrawn" for m in withdrawn}
    expected |= {f"pdq:{c.pdq}": "withdrawn" if c.withdrawn else "active" for c in accepted}

    def statuses(latest: dict[str, dict[str, Any]]) -> dict[str, str]:
        return {key: str(entry["status"]) for key, entry in latest.items() if key in expected}

    def converged(source: Any) -> Any:
        def check() -> dict[str, dict[str, Any]] | None:
            latest = source()
            return latest if statuses(latest) == expected else None

        return check

    counts: dict[str, Any] = {
        "accepted": len(accepted),
        "withdrawn": len(withdrawn),
        "load errors retried": load.errors,
    }

    sequences: list[int] = []
    try:
        hash_entries = wait_until(converged(lambda: hash_list(rig)), timeout=120, what="hash list")
        counts["hash list entries"] = len(hash_entries)

        webhook = wait_until(
            converged(lambda: latest_by_key(rig.receiver.entries())), timeout=180, what="webhooks"
        )
        received = rig.receiver.entries()
        by_delivery: dict[tuple[str, int], set[str]] = defaultdict(set)
        for entry in received:
            by_delivery[(f"{entry['signal']}:{entry['value']}", entry["sequence"])].add(
                str(entry.get("event_id"))
            )
        assert all(len(ids) == 1 for ids in by_delivery.values()), "a repeat carried a new id"
        counts["webhook entries received"] = len(received)
        counts["webhook redeliveries (same id)"] = len(received) - len(by_delivery)
        counts["webhook attempts refused"] = rig.receiver.refused
        sequences = [
            entry["sequence"] for batch in rig.receiver.batches for entry in batch["entries"]
        ]
        assert len(webhook) >= len(expected)

        feed = wait_until(
            lambda: (
                entries if statuses(latest_by_key(entries := pull_feed(rig))) == expected else None
            ),
            timeout=120,
            what="pull feed",
        )
        feed_keys = [f"{e['signal']}:{e['value']}" for e in feed]
        assert len(feed_keys) == len(set(feed_keys)), "a full sync listed a key twice"
        assert [e["sequence"] for e in feed] == sorted(e["sequence"] for e in feed)
        counts["pull feed entries"] = len(feed)

        topic_latest = wait_until(
            converged(lambda: latest_by_key(platform_topic(rig))),
            timeout=120,
            what="platform topic",
        )
        counts["platform topic keys"] = len(topic_latest)

        wait_until(
            lambda: matched_md5s(rig, sorted(active | withdrawn)) == active,
            timeout=120,
            what="the matcher to match exactly the active MD5s",
        )
        counts["matcher active matches"] = len(active)

        sources = {
            rig.topic(name)
            for name in (
                "haven.submissions.v1",
                "haven.cases.v1",
                "haven.hashlist.v1",
                "haven.platforms.v1",
                "haven.deliveries.v1",
                "haven.deadletters.v1",
            )
        }

        def source_positions() -> set[str]:
            return {
                f"{msg.topic()}/{msg.partition()}/{msg.offset()}"
                for topic in sources
                for msg in read_all(rig.bootstrap, topic)
            }

        def audited() -> Counter[str] | None:
            logged = audit_positions(rig)
            wanted = source_positions()
            return logged if wanted <= set(logged) else None

        logged = wait_until(audited, timeout=180, what="the audit log to hold every source message")
        duplicates = {position: n for position, n in logged.items() if n > 1}
        assert not duplicates, f"audit entries duplicated: {list(duplicates)[:5]}"
        counts["audit entries"] = sum(logged.values())

        def dead_lettered() -> bool:
            return all(
                dlq_sources(rig, topic) == positions for topic, positions in injected.items()
            )

        wait_until(dead_lettered, timeout=120, what="the DLQs to hold exactly the injected poison")
        counts["poison injected / dead-lettered"] = sum(len(p) for p in injected.values())
    finally:
        print("\nreliability reconciliation:")
        for name, value in counts.items():
            print(f"  {name:34} {value}")
    assert sequences, "the webhook received batches"
