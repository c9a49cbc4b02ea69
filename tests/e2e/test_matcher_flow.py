"""A platform onboarded through the distributor matches a submitter's photo and reports what it
did; the submitter sees both in the case status; after withdrawal nothing matches any more.

Every hop is real: intake (with its proof-of-work), distributor (hash list, platform registry),
matcher, and the intake's status projection, on the real broker.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.support import feed
from tests.support.wait import wait_until

pytestmark = pytest.mark.e2e

EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq" / "expected.csv"


def flip_bits(hex_value: str, count: int) -> str:
    value = int(hex_value, 16)
    for bit in random.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def onboard_platform(stack: Stack) -> tuple[str, str]:
    """Register a platform through the distributor's admin API; its id and API key."""
    platform_id = f"e2e-{random.randbytes(3).hex()}"
    token = stack["distributor"].env["HAVEN_ADMIN_TOKEN"]
    response = httpx.post(
        f"{stack.url('distributor')}/v1/platforms",
        json={"id": platform_id, "name": "Matcher e2e", "channels": ["pull"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return platform_id, str(response.json()["api_key"])


class Platform:
    def __init__(self, stack: Stack, key: str) -> None:
        self.client = httpx.Client(
            base_url=stack.url("matcher"), headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def match(self, *signals: dict[str, Any], upload_ref: str = "") -> list[list[Any]] | None:
        """The matches per signal, or None while the matcher does not know the key yet."""
        response = self.client.post(
            "/v1/match", json={"signals": list(signals), "upload_ref": upload_ref}
        )
        if response.status_code == 401:
            return None
        assert response.status_code == 200, response.text
        return [r["matches"] for r in response.json()["results"]]


def test_match_and_action_reach_the_case_status_and_withdrawal_stops_matching(
    stack: Stack,
) -> None:
    pdq = EXPECTED.read_text().splitlines()[1].split(",")[1]
    md5 = random.randbytes(16).hex()
    _, key = onboard_platform(stack)
    platform = Platform(stack, key)
    created = stack.open_case([{"type": "image", "pdq": pdq, "quality": 100, "md5": md5}])
    number, secret = str(created["case_number"]), str(created["secret"])

    near = {"type": "pdq", "value": flip_bits(pdq, 31)}
    exact_md5 = {"type": "md5", "value": md5}

    def both_match() -> list[list[Any]] | None:
        found = platform.match(near, exact_md5, upload_ref="upload-77")
        return found if found and all(found) else None

    pdq_hits, md5_hits = wait_until(both_match, timeout=60, interval=0.3, what="both matches")
    assert [(h["value"], h["distance"]) for h in pdq_hits] == [(pdq, 31)]
    assert [h["value"] for h in md5_hits] == [md5]

    action = {"signal": "pdq", "value": pdq, "action": "removed", "upload_ref": "upload-77"}
    early = platform.client.post("/v1/actions", json=action)  # it matched, but never pulled
    assert early.status_code == 403 and early.json()["error"] == "not_delivered", early.text

    def pulled() -> bool:  # what a platform does first: pull its list
        return pdq in {entry["value"] for entry in feed.pull_all(stack.url("distributor"), key)[0]}

    wait_until(pulled, timeout=60, what="the entry in the platform's pull feed")

    def accepted() -> httpx.Response | None:
        response = platform.client.post("/v1/actions", json=action)
        return response if response.status_code == 202 else None

    wait_until(accepted, timeout=30, what="the action accepted once the entry was delivered")

    def status_shows_it() -> dict[str, Any] | None:
        status = stack.case_status(number, secret)
        media = status["media"][0]
        return status if media["matched_on"] == 1 and media["actions"]["removed"] == 1 else None

    status = wait_until(status_shows_it, timeout=60, interval=0.5, what="match + action in status")
    assert status["totals"]["matched_on"] == 1
    assert status["totals"]["actions"]["removed"] == 1
    assert status["totals"]["actions"]["blocked"] == 0

    stack.withdraw(number, secret)
    wait_until(
        lambda: platform.match(near, exact_md5) == [[], []],
        timeout=60,
        interval=0.3,
        what="the withdrawn case's fingerprints to stop matching",
    )
