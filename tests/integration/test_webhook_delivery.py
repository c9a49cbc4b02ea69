"""Every channel delivers every addition and withdrawal, in order, exactly once in effect:
through a flaky webhook receiver, and through a SIGKILL of the distributor mid fan-out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.common.catch_up import read_to_end
from services.distributor.domain.webhooks import verify_signature
from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    Receiver,
    haven_factory_fixture,
    haven_fixture,
    image,
    pull_all,
)
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


def latest(entries: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """key → (status, sequence) of the newest state of each key among ``entries``."""
    state: dict[str, tuple[str, int]] = {}
    for e in entries:
        key = f"{e['signal']}:{e['value']}"
        if key not in state or state[key][1] < e["sequence"]:
            state[key] = (e["status"], e["sequence"])
    return state


def statuses(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {k: status for k, (status, _) in latest(entries).items()}


def read_platform_topic(haven: Haven, platform_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    read_to_end(
        haven.bootstrap,
        haven.topic(f"haven.platform.{platform_id}.v1"),
        lambda msg: found.append(json.loads(msg.value() or b"")),
        timeout=30,
    )
    return found


def platform_topic_matches(
    haven: Haven, platform_id: str, expected: dict[str, str]
) -> list[dict[str, Any]] | None:
    found = read_platform_topic(haven, platform_id)
    return found if found and statuses(found) == expected else None


def expected_statuses(live: range, withdrawn: range) -> dict[str, str]:
    expected = {}
    for n in withdrawn:
        expected[f"pdq:{image(n).pdq}"] = "withdrawn"
        expected[f"md5:{image(n).md5}"] = "withdrawn"
    for n in live:
        expected[f"pdq:{image(n).pdq}"] = "active"
        expected[f"md5:{image(n).md5}"] = "active"
    return expected


def test_flaky_webhook_gets_every_change_in_order_and_all_channels_agree(haven: Haven) -> None:
    def script(n: int) -> int | str:
        if n <= 3:
            return 500
        if n <= 5:
            return "hang"
        if n == 6:
            return 429
        return 200

    receiver = Receiver(script=script).start()
    try:
        created = haven.add_platform(
            id="flaky",
            name="Flaky",
            channels=["webhook", "kafka", "pull"],
            webhook_url=receiver.url,
        )
        for n in range(1, 21):
            haven.open_case(f"case-{n}", image(n))
        for n in range(1, 6):
            haven.withdraw(f"case-{n}")
        expected = expected_statuses(range(6, 21), range(1, 6))

        wait_until(
            lambda: statuses(receiver.entries()) == expected,
            timeout=60,
            what="the webhook receiver holding the final list",
        )
        pulled, _ = pull_all(haven, created["api_key"], limit=7)
        assert statuses(pulled) == expected
        topic = wait_until(
            lambda: platform_topic_matches(haven, "flaky", expected),
            timeout=30,
            what="the platform topic holding the final list",
        )
    finally:
        receiver.stop()

    webhook = receiver.entries()
    sequences = [e["sequence"] for e in webhook]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    # Every addition and every withdrawal arrived. While the receiver was failing, a key that
    # changed twice is sent once with its latest state, so fewer than 50 changes may travel.
    assert {f"{e['signal']}:{e['value']}" for e in webhook} == set(expected)
    assert sum(status == "withdrawn" for status in statuses(webhook).values()) == 10
    assert latest(pulled) == latest(webhook) == latest(topic)
    assert [e["sequence"] for e in pulled] == sorted(e["sequence"] for e in pulled)
    secret = created["webhook_secret"]
    assert all(verify_signature(header, body, secret) for header, body in receiver.signatures)
    assert not any(verify_signature(h, b, "another-secret") for h, b in receiver.signatures)
    assert receiver.requests > len(receiver.batches)  # the failures really happened


def test_sigkill_mid_fanout_loses_nothing_on_any_channel(haven_factory: Any) -> None:
    import time

    def slow(n: int) -> int:
        time.sleep(0.05)
        return 200

    receiver = Receiver(script=slow).start()
    haven = haven_factory({"HAVEN_DISTRIBUTOR_FANOUT_BATCH_SIZE": "10"})
    try:
        created = haven.add_platform(
            id="crashy", name="Crashy", channels=["webhook", "kafka"], webhook_url=receiver.url
        )
        for n in range(1, 151):
            haven.open_case(f"case-{n}", image(n))
        for n in range(1, 21):
            haven.withdraw(f"case-{n}")
        expected = expected_statuses(range(21, 151), range(1, 21))
        wait_until(lambda: len(receiver.batches) >= 5, timeout=60, what="fan-out under way")
        haven.service.kill()
        assert statuses(receiver.entries()) != expected  # killed mid fan-out
        haven.service.start().wait_ready()
        wait_until(
            lambda: statuses(receiver.entries()) == expected,
            timeout=90,
            what="the webhook receiver holding the final list after the restart",
        )
        topic = wait_until(
            lambda: platform_topic_matches(haven, "crashy", expected),
            timeout=60,
            what="the platform topic holding the final list after the restart",
        )
    finally:
        receiver.stop()
    assert created["platform"]["id"] == "crashy"
    for entries in (receiver.entries(), topic):
        # A duplicate is only ever a redelivery: the same event id for the same entry.
        by_id: dict[str, tuple[str, int]] = {}
        for e in entries:
            identity = (f"{e['signal']}:{e['value']}", e["sequence"])
            assert by_id.setdefault(e["event_id"], identity) == identity
        assert len({e["event_id"] for e in entries}) >= len(expected)
