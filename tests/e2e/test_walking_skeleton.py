"""A case submitted over HTTP becomes matchable and audited, through every real hop."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from deploy.local import stack as local_stack
from schemas.security import KafkaAccess
from services.audit.adapters.client import AuditClient
from services.audit.log.keys import load_signer
from tests.e2e.conftest import Stack
from tests.support import intake as intake_client
from tests.support.infra import require_kafka, require_local_broker
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq" / "expected.csv"


def reference_image() -> tuple[str, str]:
    """A real PDQ (bridge photo) from the shared test data, with a fresh random MD5."""
    line = EXPECTED.read_text().splitlines()[1]
    pdq = line.split(",")[1]
    return pdq, random.randbytes(16).hex()


def flip_bits(hex_value: str, count: int) -> str:
    value = int(hex_value, 16)
    for bit in random.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def open_case(intake: str, pdq: str, md5: str) -> dict[str, object]:
    items: list[dict[str, object]] = [{"type": "image", "pdq": pdq, "quality": 100, "md5": md5}]
    created: dict[str, object] = intake_client.open_case(intake, items)
    return created


PLATFORM_KEYS: dict[str, str] = {}  # matcher URL -> a platform API key accepted there


@pytest.fixture(autouse=True)
def platform_key(stack: Stack) -> None:
    """The matcher needs a platform key: onboard one through the distributor's admin API."""
    if stack.url("matcher") in PLATFORM_KEYS:
        return
    response = httpx.post(
        f"{stack.url('distributor')}/v1/platforms",
        json={"id": f"skeleton-{random.randbytes(3).hex()}", "name": "Walking skeleton"},
        headers={"Authorization": f"Bearer {stack['distributor'].env['HAVEN_ADMIN_TOKEN']}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    PLATFORM_KEYS[stack.url("matcher")] = response.json()["api_key"]


def matches(matcher: str, pdq: str, md5: str) -> list[list[dict[str, object]]]:
    body = {"signals": [{"type": "pdq", "value": pdq}, {"type": "md5", "value": md5}]}
    headers = {"Authorization": f"Bearer {PLATFORM_KEYS[matcher]}"}
    response = httpx.post(f"{matcher}/v1/match", json=body, headers=headers, timeout=30)
    if response.status_code == 401:  # the matcher has not read the new platform yet
        return [[], []]
    assert response.status_code == 200, response.text
    return [result["matches"] for result in response.json()["results"]]


def audit_entries(stack: Stack) -> list[dict[str, object]]:
    """Every checkpointed audit entry, read with the auditor key (signature checked)."""
    audit = stack["audit"]
    verifier = load_signer(Path(audit.env["HAVEN_AUDIT_SIGNING_KEY_FILE"])).verifier
    client = AuditClient(audit.url, verifier)
    try:
        rows = client.all_entries(token=audit.env["HAVEN_AUDITOR_TOKEN"])
    finally:
        client.close()
    return [row["entry"] for row in rows]


def test_submitted_case_matches_within_radius_and_is_audited(stack: Stack) -> None:
    pdq, md5 = reference_image()
    created = open_case(stack.url("intake"), pdq, md5)
    assert str(created["case_number"]).startswith("HVN-")
    assert len(str(created["secret"])) >= 32

    near = flip_bits(pdq, 31)

    def both_match() -> list[list[dict[str, object]]] | None:
        found = matches(stack.url("matcher"), near, md5)
        return found if all(found) else None

    found = wait_until(both_match, timeout=30, what="the matcher to match the PDQ and MD5")
    pdq_hits, md5_hits = found
    assert [(h["value"], h["distance"]) for h in pdq_hits] == [(pdq, 31)]
    assert [h["value"] for h in md5_hits] == [md5]

    far = flip_bits(pdq, 60)
    assert matches(stack.url("matcher"), far, random.randbytes(16).hex()) == [[], []]

    def audited() -> set[str]:
        topics = set()
        for entry in audit_entries(stack):
            event = entry.get("event") or {}
            if isinstance(event, dict) and md5 in json.dumps(event):
                topics.add(str(entry["topic"]).removeprefix(stack.namespace + "."))
        return topics if {"haven.submissions.v1", "haven.hashlist.v1"} <= topics else set()

    topics = wait_until(audited, timeout=30, what="the audit log to hold the case's events")
    assert {"haven.submissions.v1", "haven.cases.v1", "haven.hashlist.v1"} <= topics


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        (
            {"items": [{"type": "image", "pdq": "xyz", "quality": 90, "md5": "a" * 32}]},
            "items.0.pdq",
            422,
        ),
        (
            {"items": [{"type": "image", "pdq": "a" * 63, "quality": 90, "md5": "a" * 32}]},
            "items.0.pdq",
            422,
        ),
        (
            {"items": [{"type": "image", "pdq": "a" * 64, "quality": 90, "md5": "a" * 31}]},
            "items.0.md5",
            422,
        ),
        (
            {"items": [{"type": "image", "pdq": "a" * 64, "quality": 12, "md5": "a" * 32}]},
            "items.0.quality",
            422,
        ),
        ({"items": []}, "items", 422),
        (
            {
                "items": [{"type": "image", "pdq": "a" * 64, "quality": 90, "md5": "a" * 32}],
                "name": "x",
            },
            "name",
            422,
        ),
        ({"items": [{"type": "audio", "md5": "a" * 32}]}, "items.0", 422),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_field(
    stack: Stack, body: dict[str, object], field: str, status: int
) -> None:
    response = httpx.post(f"{stack.url('intake')}/v1/cases", json=body, timeout=10)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["error"] == "validation_failed"
    assert any(f["field"].startswith(field) for f in problem["fields"]), problem
    assert stack["intake"].ready()


def test_low_quality_message_speaks_to_a_person(stack: Stack) -> None:
    body = {"items": [{"type": "image", "pdq": "a" * 64, "quality": 12, "md5": "a" * 32}]}
    response = httpx.post(f"{stack.url('intake')}/v1/cases", json=body, timeout=10)
    assert "too little detail to fingerprint" in response.json()["fields"][0]["message"]


def test_oversized_body_is_refused_with_413_and_service_keeps_serving(stack: Stack) -> None:
    huge = b'{"items": [' + b" " * (5 * 1024 * 1024) + b"]}"
    response = httpx.post(
        f"{stack.url('intake')}/v1/cases",
        content=huge,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"

    def chunks() -> object:
        for _ in range(80):
            yield b" " * 65536

    chunked = httpx.post(
        f"{stack.url('intake')}/v1/cases",
        content=chunks(),  # type: ignore[arg-type]
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert chunked.status_code == 413
    pdq, md5 = reference_image()
    open_case(stack.url("intake"), pdq, md5)


def test_malformed_json_gets_422(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.url('intake')}/v1/cases",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_failed"


def test_case_survives_a_restart_of_broker_and_services(
    stack: Stack, kafka_bootstrap: KafkaAccess
) -> None:
    require_local_broker(kafka_bootstrap, "restarting the broker")
    pdq, md5 = reference_image()
    open_case(stack.url("intake"), pdq, md5)
    wait_until(lambda: all(matches(stack.url("matcher"), pdq, md5)), timeout=30, what="match")

    for service in stack.services.values():
        service.stop()
    local_stack.stop("kafka", timeout=60)
    local_stack.ensure_kafka()
    require_kafka(kafka_bootstrap, timeout=60)
    for service in stack.services.values():
        service.start()
    for service in stack.services.values():
        service.wait_ready(timeout=120)

    pdq_hits, md5_hits = matches(stack.url("matcher"), flip_bits(pdq, 20), md5)
    assert [h["value"] for h in pdq_hits] == [pdq]
    assert [h["value"] for h in md5_hits] == [md5]
