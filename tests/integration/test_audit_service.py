"""The audit service as a real process on the real broker: what it records, what it serves.

Each module gets its own Kafka namespace, so entry counts are exactly this module's messages.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemas.events import ActionKind, ActionReported, CheckpointSigned, DeadLettered, MatchFound
from schemas.security import KafkaAccess
from services.audit.adapters.client import AuditClient
from services.audit.log.checkpoint import open_checkpoint
from services.audit.log.keys import load_signer
from services.audit.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from services.audit.log.note import Verifier
from services.common.kafka import EventProducer
from tests.integration.conftest import read_topic
from tests.support.namespace import new_namespace
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Audit:
    def __init__(self, service: ServiceProcess, namespace: str, data_dir: Path) -> None:
        self.service = service
        self.namespace = namespace
        self.data_dir = data_dir
        self.token = service.env["HAVEN_AUDITOR_TOKEN"]
        key_file = Path(service.env["HAVEN_AUDIT_SIGNING_KEY_FILE"])
        self.verifier: Verifier = load_signer(key_file).verifier
        self.client = AuditClient(service.url, self.verifier)

    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def entries(self) -> list[dict[str, object]]:
        return self.client.all_entries(token=self.token)

    def wait_for_entries(self, count: int, what: str) -> list[dict[str, object]]:
        def enough() -> list[dict[str, object]] | None:
            rows = self.entries()
            return rows if len(rows) >= count else None

        return wait_until(enough, timeout=60, interval=0.3, what=what)


@pytest.fixture(scope="module")
def audit(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Audit]:
    namespace = new_namespace(request, "a")
    data_dir = tmp_path_factory.mktemp("audit-data")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=namespace,
        data_dir=data_dir,
        extra={
            "HAVEN_AUDIT_CHECKPOINT_INTERVAL_S": "0.3",
            "HAVEN_AUDIT_TOPIC_DISCOVERY_INTERVAL_S": "1",
        },
    )
    service = ServiceProcess("audit", env, data_dir).start().wait_ready()
    handle = Audit(service, namespace, data_dir)
    try:
        yield handle
    finally:
        handle.client.close()
        service.stop()


def _publish_lifecycle(producer: EventProducer, audit: Audit, tag: str) -> dict[str, str]:
    """One message on several audited topics, one on a DLQ payload topic; returns topic→key."""
    sent = {
        "haven.matches.v1": MatchFound(
            platform_id="p1", signal="md5", value=tag, sequence=1, distance=0, upload_ref="u1"
        ),
        "haven.actions.v1": ActionReported(
            platform_id="p1", signal="md5", value=tag, action=ActionKind.REMOVED, upload_ref="u1"
        ),
        "haven.deadletters.v1": DeadLettered(
            source_topic=audit.topic("haven.matches.v1"),
            source_partition=0,
            source_offset=0,
            consumer_group="g",
            error=f"ValueError {tag}",
        ),
    }
    producer.send(audit.topic("haven.matches.v1.dlq"), f"md5:{tag}", b'{"secret": "payload"}')
    for topic, event in sent.items():
        producer.send(audit.topic(topic), f"md5:{tag}", event)
    producer.send(audit.topic("haven.submissions.v1"), f"case-{tag}", b"\xff not json")
    return {topic: f"md5:{tag}" for topic in sent} | {"haven.submissions.v1": f"case-{tag}"}


def test_every_haven_topic_message_gets_exactly_one_entry_but_dlq_payloads_none(
    audit: Audit, producer: EventProducer
) -> None:
    tag = uuid.uuid4().hex
    expected = _publish_lifecycle(producer, audit, tag)

    def tagged() -> list[dict[str, object]] | None:
        rows = [r for r in audit.entries() if tag in str(r["entry"])]
        return rows if len(rows) >= len(expected) else None

    rows = wait_until(tagged, timeout=60, interval=0.3, what="entries for every topic")
    topics = [str(r["entry"]["topic"]).removeprefix(audit.namespace + ".") for r in rows]  # type: ignore[index]
    assert sorted(topics) == sorted(expected)
    by_topic = {t: r["entry"] for t, r in zip(topics, rows, strict=True)}
    assert by_topic["haven.actions.v1"]["event"]["action"] == "removed"  # type: ignore[index]
    poison = by_topic["haven.submissions.v1"]["event"]  # type: ignore[index]
    assert poison["unparseable_value"]["bytes"] == len(b"\xff not json")
    everything = audit.entries()
    assert not [r for r in everything if ".dlq" in str(r["entry"]["topic"])]  # type: ignore[index]
    assert not [r for r in everything if "checkpoints" in str(r["entry"]["topic"])]  # type: ignore[index]


def test_checkpoints_are_signed_published_and_proofs_verify_client_side(
    audit: Audit, producer: EventProducer, kafka_bootstrap: KafkaAccess
) -> None:
    for i in range(5):
        producer.send(audit.topic("haven.deliveries.v1"), "p1", b'{"n": %d}' % i)
    old_note = httpx.get(f"{audit.service.url}/v1/audit/checkpoint", timeout=10)
    assert old_note.headers["content-type"].startswith("text/plain")
    old = open_checkpoint(old_note.content, [audit.verifier], origin=audit.verifier.name).checkpoint
    for i in range(7):
        producer.send(audit.topic("haven.deliveries.v1"), "p2", b'{"m": %d}' % i)
    rows = audit.wait_for_entries(old.size + 7, "the later deliveries")
    note = httpx.get(f"{audit.service.url}/v1/audit/checkpoint", timeout=10).content
    new = open_checkpoint(note, [audit.verifier], origin=audit.verifier.name).checkpoint
    assert new.size >= old.size + 7

    for index in sorted({0, old.size - 1, new.size // 2, new.size - 1}):
        proof = httpx.get(
            f"{audit.service.url}/v1/audit/proof/inclusion",
            params={"index": index, "tree_size": new.size},
            timeout=10,
        ).json()
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        leaf: bytes = rows[index]["leaf"]  # type: ignore[assignment]
        assert verify_inclusion(
            index=index, size=new.size, leaf_hash=leaf_hash(leaf), proof=hashes, root=new.root_hash
        )
        other = rows[(index + 1) % new.size]["leaf"]
        assert not verify_inclusion(
            index=index,
            size=new.size,
            leaf_hash=leaf_hash(other),  # type: ignore[arg-type]
            proof=hashes,
            root=new.root_hash,
        )

    body = httpx.get(
        f"{audit.service.url}/v1/audit/proof/consistency",
        params={"from": old.size, "to": new.size},
        timeout=10,
    ).json()
    assert (body["from"], body["to"]) == (old.size, new.size)
    assert verify_consistency(
        old_size=old.size,
        new_size=new.size,
        old_root=old.root_hash,
        new_root=new.root_hash,
        proof=[base64.b64decode(h) for h in body["hashes"]],
    )

    def published() -> list[CheckpointSigned] | None:
        msgs = read_topic(
            kafka_bootstrap, audit.topic("haven.audit.checkpoints.v1"), expect=1000, timeout=3
        )
        events = [CheckpointSigned.model_validate_json(m.value() or b"") for m in msgs]
        return events if any(e.tree_size >= new.size for e in events) else None

    events = wait_until(published, timeout=30, what="the checkpoint on the checkpoints topic")
    last = max(events, key=lambda e: e.tree_size)
    assert open_checkpoint(last.note.encode(), [audit.verifier]).checkpoint.size == last.tree_size
    key = httpx.get(f"{audit.service.url}/v1/audit/key", timeout=10).text.strip()
    assert key == audit.verifier.key


def test_entries_need_the_auditor_key(audit: Audit) -> None:
    url = f"{audit.service.url}/v1/audit/entries"
    params = {"start": 0, "end": 1}
    missing = httpx.get(url, params=params, timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(url, params=params, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401
    right = httpx.get(
        url, params=params, headers={"Authorization": f"Bearer {audit.token}"}, timeout=10
    )
    assert right.status_code == 200, right.text
    assert right.json()["entries"][0]["index"] == 0


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("proof/inclusion", {"index": 0}, 422, "query.tree_size"),
        ("proof/inclusion", {"index": -1, "tree_size": 1}, 422, "query.index"),
        ("proof/inclusion", {"index": "x", "tree_size": 1}, 422, "query.index"),
        ("proof/inclusion", {"index": 5, "tree_size": 3}, 400, "query.index"),
        ("proof/inclusion", {"index": 0, "tree_size": 10**9}, 400, "query.tree_size"),
        ("proof/consistency", {"from": 3, "to": 2}, 400, "query.from"),
        ("proof/consistency", {"from": 1, "to": 10**9}, 400, "query.to"),
        ("proof/consistency", {"to": 2}, 422, "query.from"),
        ("entries", {"start": 0, "end": 10**9}, 400, "query.end"),
        ("entries", {"start": 2, "end": 1}, 400, "query.start"),
    ],
)
def test_bad_parameters_get_a_4xx_naming_the_parameter(
    audit: Audit, path: str, params: dict[str, object], status: int, field: str
) -> None:
    audit.wait_for_entries(3, "a few entries")
    response = httpx.get(
        f"{audit.service.url}/v1/audit/{path}",
        params=params,  # type: ignore[arg-type]
        headers={"Authorization": f"Bearer {audit.token}"},
        timeout=10,
    )
    assert response.status_code == status, response.text
    assert field in [f["field"] for f in response.json()["fields"]], response.json()


def test_entries_range_is_bounded(audit: Audit, producer: EventProducer) -> None:
    futures = [
        producer.produce(audit.topic("haven.hashlist.v1"), f"md5:{i:032x}", b"{}")
        for i in range(1001)
    ]
    for future in futures:
        future.result(timeout=30)
    audit.wait_for_entries(1001, "a thousand entries")
    response = httpx.get(
        f"{audit.service.url}/v1/audit/entries",
        params={"start": 0, "end": 1001},
        headers={"Authorization": f"Bearer {audit.token}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "at most 1000" in response.json()["message"]


def test_haven_audit_prove_checks_an_entry_with_public_endpoints_only(audit: Audit) -> None:
    rows = audit.wait_for_entries(3, "entries to prove")
    entry_file = audit.data_dir / "entry-2.bin"
    entry_file.write_bytes(rows[2]["leaf"])  # type: ignore[arg-type]
    since = audit.data_dir / "seen-checkpoint"
    command = [
        sys.executable,
        "-m",
        "services.cli",
        "audit",
        "prove",
        "--url",
        audit.service.url,
        "--key",
        audit.verifier.key,
        "--index",
        "2",
        "--entry",
        str(entry_file),
        "--since",
        str(since),
    ]
    for _ in range(2):  # the second run also checks consistency with the first's checkpoint
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
    assert '"consistent_with"' in done.stdout
    entry_file.write_bytes(rows[1]["leaf"])  # type: ignore[arg-type]
    wrong = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert wrong.returncode == 1
    assert "not included" in wrong.stderr


def metric(service: ServiceProcess, name: str) -> float:
    text = httpx.get(f"{service.url}/metrics", timeout=10).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    assert values, f"{name} is not exported"
    return values[0]


def test_metrics_report_tree_size_and_checkpoint_age(audit: Audit) -> None:
    """The age is how long appended entries have waited for a checkpoint: with every entry
    signed (the 0.3 s interval here), it stays near zero however long the log is idle."""
    audit.wait_for_entries(3, "entries")
    assert metric(audit.service, "haven_audit_tree_size") >= 3
    ages = []
    for _ in range(8):  # about 2 s of an idle log: a stale-checkpoint alert must stay quiet
        ages.append(metric(audit.service, "haven_audit_seconds_since_checkpoint"))
        time.sleep(0.25)
    assert max(ages) < 1.5, ages
    text = httpx.get(f"{audit.service.url}/metrics", timeout=10).text
    assert "haven_audit_append_batch_seconds_bucket" in text
    assert 'haven_audit_entries_appended_total{topic="' in text


def test_checkpoint_age_grows_while_entries_wait_unsigned(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    producer: EventProducer,
    tmp_path: Path,
) -> None:
    """An audit that signs only every hour: appended entries wait, and the age says so."""
    namespace = new_namespace(request, "g")
    env = service_env(
        kafka=kafka_bootstrap,
        redis=redis_url,
        namespace=namespace,
        data_dir=tmp_path,
        extra={"HAVEN_AUDIT_CHECKPOINT_INTERVAL_S": "3600"},
    )
    service = ServiceProcess("audit", env, tmp_path).start().wait_ready()
    try:
        signed = metric(service, "haven_audit_checkpoints_signed_total")
        assert metric(service, "haven_audit_seconds_since_checkpoint") < 1.5  # nothing waits
        audit = Audit(service, namespace, tmp_path)
        _publish_lifecycle(producer, audit, f"age-{uuid.uuid4().hex}")
        wait_until(
            lambda: metric(service, "haven_audit_tree_size") >= 4,
            timeout=30,
            what="the entries to be appended",
        )
        wait_until(
            lambda: metric(service, "haven_audit_seconds_since_checkpoint") > 2.0,
            timeout=30,
            what="the checkpoint age to grow while entries wait",
        )
        assert (
            metric(service, "haven_audit_checkpoints_signed_total") == signed
        )  # none signed since
        audit.client.close()
    finally:
        service.stop()
