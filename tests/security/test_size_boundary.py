"""Every size the API accepts fits every hop: the largest case intake takes reaches the
platforms, and a receiver that refuses a batch as too large (413) cannot block the platform's
later withdrawals (the dead-letter record names the entries instead of carrying them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.catch_up import read_to_end
from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    Receiver,
    haven_factory_fixture,
)
from tests.security.conftest import AttackTable
from tests.support import feed
from tests.support.intake import open_case, withdraw_case
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.security]
FRAMES = 7200  # intake's per-video maximum


def long_video() -> dict[str, Any]:
    frames = [
        {"pdq": random.randbytes(32).hex(), "quality": 90, "timestamp": float(i)}
        for i in range(FRAMES)
    ]
    return {"type": "video", "md5": random.randbytes(16).hex(), "frames": frames}


def test_the_largest_case_reaches_the_platforms_and_a_413_blocks_nothing(
    haven_factory: Callable[..., Haven],
    kafka_bootstrap: Any,
    redis_url: str,
    tmp_path: Path,
    attacks: AttackTable,
) -> None:
    haven = haven_factory()
    receiver = Receiver(max_body=1_000_000).start()
    accepting = Receiver().start()
    intake_env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=haven.namespace, data_dir=tmp_path
    )
    intake = ServiceProcess("intake", intake_env, tmp_path).start().wait_ready()
    try:
        puller = haven.add_platform(id="puller", name="Puller", channels=["pull"])
        haven.add_platform(
            id="hooked", name="Hooked", channels=["webhook"], webhook_url=receiver.url
        )
        haven.add_platform(
            id="wide", name="Wide", channels=["webhook", "kafka"], webhook_url=accepting.url
        )
        big = open_case(intake.url, [long_video(), long_video()], timeout=60)
        digests = wait_until(
            lambda: [
                e for e in feed.pull_all(haven.url, puller["api_key"])[0] if e["signal"] == "vpdq"
            ],
            timeout=90,
            what="both long videos in the pull feed",
        )
        wait_until(
            lambda: len([e for e in accepting.entries() if e["signal"] == "vpdq"]) == 2,
            timeout=90,
            what="both long videos at the accepting webhook",
        )
        wait_until(
            lambda: len(haven_videos_on_kafka(haven, "wide")) == 2,
            timeout=90,
            what="both long videos on the platform's Kafka topic",
        )
        attacks.record(
            f"the largest case intake accepts (2 videos x {FRAMES} frames, ~1.6 MB)",
            "201, and on pull, webhook and Kafka",
            f"201 {big['case_number'][:3]}…; {len(digests)} videos in the feed, 2 by webhook,"
            " 2 on Kafka",
        )
        assert len(digests) == 2

        image = {"type": "image", "pdq": random.randbytes(32).hex(), "quality": 90}
        image["md5"] = random.randbytes(16).hex()
        small = open_case(intake.url, [image])
        withdraw_case(intake.url, small["case_number"], small["secret"])

        def withdrawal_arrived() -> bool:
            return any(
                e["value"] == image["md5"] and e["status"] == "withdrawn"
                for e in receiver.entries()
            )

        wait_until(withdrawal_arrived, timeout=120, what="the later withdrawal by webhook")
        series = 'haven_webhook_dlq_batches_total{platform="hooked"} '
        metrics = httpx.get(f"{haven.url}/metrics", timeout=10).text.splitlines()
        dead = sum(float(line.split()[-1]) for line in metrics if line.startswith(series))
        attacks.record(
            "webhook receiver answers 413 to the >1 MB batch of the long videos",
            "batch dead-lettered, later withdrawal delivered",
            f"{dead:.0f} batch(es) dead-lettered, withdrawal delivered",
        )
        assert dead >= 1
    finally:
        intake.stop()
        receiver.stop()
        accepting.stop()


def haven_videos_on_kafka(haven: Haven, platform_id: str) -> list[bytes]:
    """The vPDQ entries on a platform's own topic (read as the operator)."""
    topic = haven.topic(f"haven.platform.{platform_id}.v1")
    found: list[bytes] = []
    read_to_end(haven.bootstrap, topic, lambda m: found.append(m.value() or b""), timeout=60)
    return [v for v in found if b'"signal":"vpdq"' in v]
