"""A case's whole life is in the audit log, each step provably included under the latest
signed checkpoint, checked the way an outsider would: pinned verifier key, public proofs.

Opened and withdrawn go through the real intake, the match and the action through the real
matcher. Two steps are stand-ins until their producers land: the platform is registered by
publishing its ``PlatformSnapshot`` (the distributor's admin API is being built in
parallel), and the delivery by publishing a ``DeliveryRecorded``. The full lifecycle with
every real producer lives in the issue-7 reliability suite.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.events import (
    Channel,
    DeliveryOutcome,
    DeliveryRecorded,
    PlatformChange,
    PlatformSnapshot,
)
from services.audit.adapters.client import AuditClient
from services.audit.log.keys import load_signer
from services.common.kafka import EventProducer
from services.common.platform_keys import new_api_key
from tests.e2e.conftest import Stack
from tests.support import intake
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq" / "expected.csv"


@pytest.fixture
def producer(kafka_bootstrap: str) -> Iterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap)
    yield producer
    producer.close()


def register_platform(stack: Stack, producer: EventProducer) -> tuple[str, str]:
    platform_id = f"p{random.randbytes(4).hex()}"
    key, stored = new_api_key()
    snapshot = PlatformSnapshot(
        platform_id=platform_id,
        name="Audit e2e platform",
        signals=["pdq", "md5"],
        channels=[Channel.PULL],
        api_keys=[stored],
        change=PlatformChange.ADDED,
    )
    producer.send(f"{stack.namespace}.haven.platforms.v1", platform_id, snapshot)
    return platform_id, key


def post_as_platform(stack: Stack, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{stack.url('matcher')}{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_a_case_life_is_in_the_log_with_valid_inclusion_proofs(
    stack: Stack, producer: EventProducer
) -> None:
    pdq = EXPECTED.read_text().splitlines()[1].split(",")[1]
    md5 = random.randbytes(16).hex()
    platform_id, key = register_platform(stack, producer)
    created = intake.open_case(
        stack.url("intake"), [{"type": "image", "pdq": pdq, "quality": 100, "md5": md5}]
    )

    def matched() -> httpx.Response | None:
        body = {"signals": [{"type": "md5", "value": md5}], "upload_ref": "upload-1"}
        response = post_as_platform(stack, "/v1/match", key, body)
        hits = (
            response.json().get("results", [{}])[0].get("matches") if response.is_success else None
        )
        return response if hits else None

    wait_until(matched, timeout=60, interval=0.5, what="the platform's match on the case's MD5")
    action = {"signal": "md5", "value": md5, "action": "removed", "upload_ref": "upload-1"}
    reported = post_as_platform(stack, "/v1/actions", key, action)
    assert reported.status_code in (200, 201, 202), reported.text
    delivery = DeliveryRecorded(
        platform_id=platform_id,
        channel=Channel.PULL,
        batch_id=f"{platform_id}:1-1",
        first_sequence=1,
        last_sequence=1,
        keys=[f"md5:{md5}"],
        outcome=DeliveryOutcome.DELIVERED,
    )
    producer.send(f"{stack.namespace}.haven.deliveries.v1", platform_id, delivery)
    intake.withdraw_case(stack.url("intake"), str(created["case_number"]), str(created["secret"]))

    audit = stack["audit"]
    verifier = load_signer(Path(audit.env["HAVEN_AUDIT_SIGNING_KEY_FILE"])).verifier
    token = audit.env["HAVEN_AUDITOR_TOKEN"]
    client = AuditClient(audit.url, verifier)
    wanted = ("CaseOpened", "DeliveryRecorded", "MatchFound", "ActionReported", "CaseWithdrawn")

    def life() -> dict[str, dict[str, Any]] | None:
        found: dict[str, dict[str, Any]] = {}
        rows = client.all_entries(token=token)
        case_ids = {
            r["entry"]["event"]["case_id"]
            for r in rows
            if isinstance(r["entry"]["event"], dict)
            and r["entry"]["event"].get("type") == "CaseOpened"
            and md5 in str(r["entry"]["event"])
        }
        for row in rows:
            event = row["entry"]["event"]
            if not isinstance(event, dict) or event.get("type") not in wanted:
                continue
            if md5 in str(event) or event.get("case_id") in case_ids:
                found.setdefault(event["type"], row)
        return found if set(found) == set(wanted) else None

    try:
        found = wait_until(life, timeout=90, interval=0.5, what=f"the log to hold {wanted}")
        latest = client.checkpoint()
        for kind, row in found.items():
            assert row["index"] < latest.size, kind
            proof = client.prove_inclusion(index=row["index"], leaf=row["leaf"], checkpoint=latest)
            assert proof.checkpoint.size == latest.size
            topic = row["entry"]["topic"].removeprefix(stack.namespace + ".")
            assert (
                topic
                == {
                    "CaseOpened": "haven.submissions.v1",
                    "CaseWithdrawn": "haven.submissions.v1",
                    "DeliveryRecorded": "haven.deliveries.v1",
                    "MatchFound": "haven.matches.v1",
                    "ActionReported": "haven.actions.v1",
                }[kind]
            )
        order = [found[k]["index"] for k in ("CaseOpened", "CaseWithdrawn")]
        assert order == sorted(order)
    finally:
        client.close()
