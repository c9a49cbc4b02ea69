"""The shared producer on the real broker: a caller that stops waiting never breaks it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid

import pytest

from schemas.bootstrap import ensure_topics
from schemas.security import KafkaAccess
from schemas.topics import TopicSpec
from services.common.catch_up import read_to_end
from services.common.kafka import EventProducer
from tests.support.namespace import drop_namespace

pytestmark = pytest.mark.integration


def test_a_send_whose_caller_gave_up_does_not_stop_later_sends(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str
) -> None:
    namespace = f"it.{uuid.uuid4().hex[:10]}"
    request.addfinalizer(lambda: drop_namespace(kafka_bootstrap, redis_url, namespace))
    topic = f"{namespace}.haven.submissions.v1"
    ensure_topics(kafka_bootstrap, (TopicSpec(topic, "k", "test", ()),))
    producer = EventProducer(kafka_bootstrap)
    try:

        async def impatient() -> None:
            for i in range(20):
                with pytest.raises(TimeoutError):
                    await producer.send_async(topic, str(i), b"{}", timeout=1e-6)

        # Each timed-out await cancels its future; the broker's acknowledgement arrives later.
        # (Its own thread: the browser tests' Playwright keeps an event loop in this one.)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, impatient()).result(timeout=60)
        acknowledged = [producer.send(topic, f"after-{i}", b"{}", timeout=30) for i in range(5)]
    finally:
        producer.close()
    # Every later send is on the broker where its acknowledgement says.
    stored: dict[tuple[int | None, int | None], bytes | None] = {}
    read_to_end(
        kafka_bootstrap,
        topic,
        lambda m: stored.__setitem__((m.partition(), m.offset()), m.key()),
        timeout=30,
    )
    assert [stored[(m.partition(), m.offset())] for m in acknowledged] == [
        f"after-{i}".encode() for i in range(5)
    ]
