"""Status read model: projected from events we publish ourselves, in any order, idempotent on
redelivery, and rebuilt from Kafka when Redis loses it. Also the per-client rate limit."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from schemas.events import (
    ActionKind,
    ActionReported,
    Channel,
    DeliveryOutcome,
    DeliveryRecorded,
    Event,
    MatchFound,
)
from schemas.security import KafkaAccess
from schemas.signals import SignalType, VideoMedia, vpdq_digest
from services.common.kafka import EventProducer
from tests.support import intake
from tests.support.services import ServiceProcess, service_env
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


def start_intake(
    kafka: KafkaAccess, redis_url: str, namespace: str, data_dir: Path, **extra: str
) -> ServiceProcess:
    env = service_env(
        kafka=kafka, redis=redis_url, namespace=namespace, data_dir=data_dir, extra=extra
    )
    return ServiceProcess("intake", env, data_dir).start()


@pytest.fixture(scope="module")
def intake_service(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    topics: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    service = start_intake(kafka_bootstrap, redis_url, topics, tmp_path_factory.mktemp("intake"))
    try:
        yield service.wait_ready()
    finally:
        service.stop()


def publish(producer: EventProducer, namespace: str, topic: str, key: str, event: Event) -> None:
    producer.send(f"{namespace}.{topic}", key, event)


def test_status_shows_deliveries_matches_and_latest_actions(
    intake_service: ServiceProcess,
    producer: EventProducer,
    topics: str,
    redis_url: str,
) -> None:
    pdq, md5 = random.randbytes(32).hex(), random.randbytes(16).hex()
    frames = [
        {"pdq": random.randbytes(32).hex(), "quality": 80, "timestamp": float(i)} for i in range(3)
    ]
    video_md5 = random.randbytes(16).hex()
    vpdq = vpdq_digest(VideoMedia.model_validate({"md5": video_md5, "frames": frames}).frames)
    image_keys = [f"pdq:{pdq}", f"md5:{md5}"]

    def delivered(platform: str, keys: list[str], outcome: DeliveryOutcome) -> None:
        event = DeliveryRecorded(
            platform_id=platform,
            channel=Channel.PULL,
            batch_id=random.randbytes(4).hex(),
            first_sequence=1,
            last_sequence=2,
            keys=keys,
            outcome=outcome,
        )
        publish(producer, topics, "haven.deliveries.v1", platform, event)

    # Facts may arrive before the case itself: they are kept per fingerprint.
    delivered("alpha", image_keys, DeliveryOutcome.DELIVERED)
    created = intake.open_case(
        intake_service.url,
        [
            {"type": "image", "pdq": pdq, "quality": 90, "md5": md5},
            {"type": "video", "md5": video_md5, "frames": frames},
        ],
    )
    number, secret = created["case_number"], created["secret"]
    delivered("beta", [f"md5:{md5}", f"vpdq:{vpdq}"], DeliveryOutcome.DELIVERED)
    delivered("gamma", image_keys, DeliveryOutcome.FAILED)

    match = MatchFound(
        platform_id="alpha",
        signal=SignalType.PDQ,
        value=pdq,
        sequence=1,
        distance=3,
        upload_ref="u1",
    )
    for _ in range(2):  # a redelivered event changes nothing
        publish(producer, topics, "haven.matches.v1", f"pdq:{pdq}", match)
    for platform, signal, value, action in [
        ("alpha", SignalType.PDQ, pdq, ActionKind.UNDER_REVIEW),
        ("alpha", SignalType.PDQ, pdq, ActionKind.REMOVED),
        ("beta", SignalType.VPDQ, vpdq, ActionKind.BLOCKED),
    ]:
        report = ActionReported(
            platform_id=platform, signal=signal, value=value, action=action, upload_ref="u1"
        )
        publish(producer, topics, "haven.actions.v1", f"{signal.value}:{value}", report)

    expected_image = {
        "media_id": "m1",
        "type": "image",
        "shared_with": 2,
        "matched_on": 1,
        "actions": {"blocked": 0, "removed": 1, "not_violating": 0, "under_review": 0},
    }
    expected_video = {
        "media_id": "m2",
        "type": "video",
        "shared_with": 1,
        "matched_on": 0,
        "actions": {"blocked": 1, "removed": 0, "not_violating": 0, "under_review": 0},
    }
    expected_totals = {
        "shared_with": 2,
        "matched_on": 1,
        "actions": {"blocked": 1, "removed": 1, "not_violating": 0, "under_review": 0},
    }

    def projected() -> dict[str, object] | None:
        status = intake.case_status(intake_service.url, number, secret)
        done = status["media"] == [expected_image, expected_video]
        return status if done and status["totals"] == expected_totals else None

    wait_until(projected, timeout=30, what="the status to show deliveries, matches and actions")

    # Redis loses everything intake kept: the projector rebuilds it from Kafka.
    intake_service.stop()
    client = redis.Redis.from_url(redis_url)
    doomed = list(client.scan_iter(match=f"{topics}:intake:*", count=1000))
    assert doomed
    client.delete(*doomed)
    intake_service.start().wait_ready()

    # /readyz is 200 only once the projector has replayed Kafka into the emptied Redis, so the
    # first status read after it already shows the whole case: no "not yet" to wait out.
    status = projected()
    assert status is not None, "ready before the read model was rebuilt"
    assert status["status"] == "open" and status["case_number"] == number


def test_rate_limit_answers_429_with_retry_after(
    kafka_bootstrap: KafkaAccess, redis_url: str, topics: str, tmp_path: Path
) -> None:
    service = start_intake(
        kafka_bootstrap,
        redis_url,
        topics,
        tmp_path,
        HAVEN_INTAKE_RATE_LIMIT_READS_PER_MINUTE="3",
        HAVEN_INTAKE_RATE_LIMIT_WRITES_PER_MINUTE="1",
        HAVEN_INTAKE_RATE_LIMIT_WINDOW_S="3600",  # no window boundary mid-test
        # Its own client key: buckets of other tests' requests (also 127.0.0.1) don't count.
        HAVEN_CLIENT_KEY_SEED=random.randbytes(32).hex(),
    ).wait_ready()
    try:
        intake.open_case(service.url, [image_item()])
        second = httpx.post(
            f"{service.url}/v1/cases",
            json={"items": [image_item()]},
            headers={"X-Altcha": "unused", "X-Forwarded-For": "203.0.113.9"},
        )
        assert second.status_code == 429, second.text
        assert second.json()["error"] == "rate_limited"
        assert 1 <= int(second.headers["Retry-After"]) <= 3601
        reads = [httpx.get(f"{service.url}/v1/challenge").status_code for _ in range(3)]
        assert reads == [200, 200, 429]  # the open_case above spent one of the three
        metrics = httpx.get(f"{service.url}/metrics").text
        assert 'haven_intake_rate_limited_total{kind="write"} 1.0' in metrics
        assert 'haven_intake_rate_limited_total{kind="read"} 1.0' in metrics
        keys = redis.Redis.from_url(redis_url).keys(f"{topics}:intake:rl:*")
        assert keys and not any(b"127.0.0.1" in key for key in keys)
    finally:
        service.stop()


def image_item() -> dict[str, object]:
    return {
        "type": "image",
        "pdq": random.randbytes(32).hex(),
        "quality": 90,
        "md5": random.randbytes(16).hex(),
    }
