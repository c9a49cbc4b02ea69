"""A case's whole life is in the audit log, each step provably included under the latest
signed checkpoint, checked the way an outsider would: pinned verifier key, public proofs.

Every step goes through the real services: the platform is added through the distributor's
admin API, the case opened and withdrawn through intake (with proof-of-work), the delivery is
the distributor's record of the platform pulling its feed, the match and the action report go
through the matcher.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.audit.adapters.client import AuditClient
from services.audit.log.keys import load_signer
from tests.e2e.conftest import Stack
from tests.support import intake
from tests.support.feed import pull_all
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq" / "expected.csv"


def register_platform(stack: Stack) -> str:
    """Add a pull platform through the admin API; returns its API key (shown once)."""
    admin = stack["distributor"].env["HAVEN_ADMIN_TOKEN"]
    created = httpx.post(
        f"{stack.url('distributor')}/v1/platforms",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "id": f"p{random.randbytes(4).hex()}",
            "name": "Audit e2e platform",
            "signals": ["pdq", "md5"],
            "channels": ["pull"],
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["api_key"]
    return key


def feed_values(stack: Stack, key: str) -> set[str]:
    """A full sync of the platform's pull feed (each page is recorded as a delivery)."""
    entries, _ = pull_all(stack.url("distributor"), key)
    return {entry["value"] for entry in entries}


def post_as_platform(stack: Stack, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{stack.url('matcher')}{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_a_case_life_is_in_the_log_with_valid_inclusion_proofs(stack: Stack) -> None:
    pdq = EXPECTED.read_text().splitlines()[1].split(",")[1]
    md5 = random.randbytes(16).hex()
    key = register_platform(stack)
    created = intake.open_case(
        stack.url("intake"), [{"type": "image", "pdq": pdq, "quality": 100, "md5": md5}]
    )
    wait_until(
        lambda: md5 in feed_values(stack, key),
        timeout=60,
        interval=0.5,
        what="the platform's pull feed to deliver the case's MD5",
    )

    def matched() -> httpx.Response | None:
        body = {"signals": [{"type": "md5", "value": md5}], "upload_ref": "upload-1"}
        response = post_as_platform(stack, "/v1/match", key, body)
        assert response.status_code == 200, response.text
        return response if response.json()["results"][0]["matches"] else None

    wait_until(matched, timeout=60, interval=0.5, what="the platform's match on the case's MD5")
    action = {"signal": "md5", "value": md5, "action": "removed", "upload_ref": "upload-1"}
    reported = post_as_platform(stack, "/v1/actions", key, action)
    assert reported.status_code == 202, reported.text  # accepted: on haven.actions.v1
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
