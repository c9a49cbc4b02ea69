"""The real parts answer, topics bootstrap idempotently, and a dead broker is an error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource

from schemas.bootstrap import ensure_topics
from schemas.security import KafkaAccess
from schemas.topics import all_topics, qualified
from services.common.catch_up import read_to_end
from services.common.kafka import DeliveryFailed, EventProducer
from tests.support.infra import InfraUnavailable, require_kafka, require_redis
from tests.support.namespace import drop_namespace

pytestmark = pytest.mark.integration


def test_topic_bootstrap_is_idempotent_and_configures_compaction(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str
) -> None:
    namespace = f"b{uuid.uuid4().hex[:8]}"
    request.addfinalizer(lambda: drop_namespace(kafka_bootstrap, redis_url, namespace))
    created = ensure_topics(kafka_bootstrap, all_topics(), namespace=namespace)
    assert len(created) == len(all_topics())
    assert ensure_topics(kafka_bootstrap, all_topics(), namespace=namespace) == []
    admin = AdminClient(kafka_bootstrap.config())
    resource = ConfigResource("topic", qualified("haven.hashlist.v1", namespace))
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"


def test_producer_reports_acknowledged_delivery_and_failure(
    kafka_bootstrap: KafkaAccess, topics: str
) -> None:
    overrides: dict[str, Any] = {"delivery.timeout.ms": 5000}
    producer = EventProducer(kafka_bootstrap, on_delivered=None, **overrides)
    try:
        topic = qualified("haven.submissions.v1", topics)
        key = uuid.uuid4().hex
        msg = producer.send(topic, key, b"{}")
        # Acknowledged means on the broker: read back, the key is at the offset reported.
        stored: dict[bytes, tuple[int | None, int | None]] = {}
        read_to_end(
            kafka_bootstrap,
            topic,
            lambda m: stored.__setitem__(m.key() or b"", (m.partition(), m.offset())),
            timeout=30,
        )
        assert stored[key.encode()] == (msg.partition(), msg.offset())
        with pytest.raises(DeliveryFailed):
            producer.send(f"missing-{uuid.uuid4().hex}", "k", b"{}", timeout=20)
    finally:
        producer.close()


def test_redis_answers(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    client.set(key, b"v", ex=10)
    try:
        assert client.get(key) == b"v"
    finally:
        client.delete(key)


def test_a_broker_that_does_not_answer_is_an_error_not_a_skip() -> None:
    with pytest.raises(InfraUnavailable):
        require_kafka(KafkaAccess("127.0.0.1:9"), timeout=3)
    with pytest.raises(InfraUnavailable):
        require_redis("redis://127.0.0.1:9/0")
