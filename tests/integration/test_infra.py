"""The real parts answer, topics bootstrap idempotently, and a dead broker is an error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource

from schemas.bootstrap import ensure_topics
from schemas.topics import all_topics, qualified
from services.common.kafka import DeliveryFailed, EventProducer
from tests.support.infra import InfraUnavailable, require_kafka, require_redis

pytestmark = pytest.mark.integration


def test_topic_bootstrap_is_idempotent_and_configures_compaction(kafka_bootstrap: str) -> None:
    namespace = f"b{uuid.uuid4().hex[:8]}"
    created = ensure_topics(kafka_bootstrap, all_topics(), namespace=namespace)
    assert len(created) == len(all_topics())
    assert ensure_topics(kafka_bootstrap, all_topics(), namespace=namespace) == []
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    resource = ConfigResource("topic", qualified("haven.hashlist.v1", namespace))
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"


def test_producer_reports_acknowledged_delivery_and_failure(
    kafka_bootstrap: str, topics: str
) -> None:
    overrides: dict[str, Any] = {"delivery.timeout.ms": 5000}
    producer = EventProducer(kafka_bootstrap, on_delivered=None, **overrides)
    try:
        msg = producer.send(qualified("haven.submissions.v1", topics), "k", b"{}")
        assert (msg.offset() or 0) >= 0 and msg.error() is None
        with pytest.raises(DeliveryFailed):
            producer.send(f"missing-{uuid.uuid4().hex}", "k", b"{}", timeout=20)
    finally:
        producer.close()


def test_redis_answers(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    client.set(key, b"v", ex=10)
    assert client.get(key) == b"v"


def test_a_broker_that_does_not_answer_is_an_error_not_a_skip() -> None:
    with pytest.raises(InfraUnavailable):
        require_kafka("127.0.0.1:9", timeout=3)
    with pytest.raises(InfraUnavailable):
        require_redis("redis://127.0.0.1:9/0")
