"""The shared consumer loop on a real broker: retries, DLQ, and carrying on after poison."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter

import pytest
from confluent_kafka import Message

from schemas.bootstrap import ensure_topics
from schemas.security import KafkaAccess
from schemas.topics import DEADLETTERS, SUBMISSIONS, TopicSpec, dlq_of
from services.common.consumer import ConsumerLoop
from services.common.kafka import EventProducer
from tests.integration.conftest import message_headers, read_topic
from tests.support.namespace import drop_namespace
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str) -> str:
    """A fresh topic, its DLQ and the namespace's dead-letter record topic, for one test."""
    namespace = f"it.{uuid.uuid4().hex[:10]}"
    request.addfinalizer(lambda: drop_namespace(kafka_bootstrap, redis_url, namespace))
    name = f"{namespace}.haven.submissions.v1"
    spec = TopicSpec(name, "k", "test", ())
    ensure_topics(kafka_bootstrap, (spec, dlq_of(spec)))
    ensure_topics(kafka_bootstrap, (DEADLETTERS,), namespace=namespace)
    return name


def run_loop(loop: ConsumerLoop) -> threading.Thread:
    """``loop`` in a thread. A loop stopped while a handler is still failing for a transient
    reason ends by raising it (and records it in ``loop.failed``), which is the point of one
    test here, not a crash of the test thread."""

    def run() -> None:
        try:
            loop.run()
        except ConnectionError:
            assert loop.failed is not None

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_unparseable_message_goes_to_dlq_and_the_loop_carries_on(
    kafka_bootstrap: KafkaAccess, producer: EventProducer, topic: str
) -> None:
    handled: list[int] = []

    def handler(msg: Message) -> None:
        handled.append(json.loads(msg.value() or b"")["n"])

    loop = ConsumerLoop(
        kafka=kafka_bootstrap,
        group_id=f"g-{uuid.uuid4().hex}",
        topics=[topic],
        handler=handler,
        producer=producer,
        retry_backoff_s=0.01,
    )
    thread = run_loop(loop)
    producer.send(topic, "k", b'{"n": 1}')
    producer.send(topic, "k", b"{this is not json")
    producer.send(topic, "k", b'{"n": 2}')
    wait_until(lambda: handled == [1, 2], timeout=30, what="both good messages")
    loop.stop()
    thread.join(15)

    dead = read_topic(kafka_bootstrap, topic + ".dlq", expect=1)
    assert [m.value() for m in dead] == [b"{this is not json"]
    headers = message_headers(dead[0])
    assert b"JSONDecodeError" in headers["haven.dlq.error"]
    assert headers["haven.dlq.source"].decode().startswith(topic + "/")


def test_failing_handler_is_retried_then_dead_lettered(
    kafka_bootstrap: KafkaAccess, producer: EventProducer, topic: str
) -> None:
    attempts: Counter[bytes] = Counter()
    done: list[bytes] = []

    def handler(msg: Message) -> None:
        value = msg.value() or b""
        attempts[value] += 1
        if value == b'"always-fails"' or (value == b'"fails-once"' and attempts[value] == 1):
            raise RuntimeError("boom")
        done.append(value)

    loop = ConsumerLoop(
        kafka=kafka_bootstrap,
        group_id=f"g-{uuid.uuid4().hex}",
        topics=[topic],
        handler=handler,
        producer=producer,
        max_attempts=3,
        retry_backoff_s=0.01,
    )
    thread = run_loop(loop)
    for value in (b'"fails-once"', b'"always-fails"', b'"fine"'):
        producer.send(topic, "k", value)
    wait_until(lambda: done == [b'"fails-once"', b'"fine"'], timeout=30, what="handled messages")
    loop.stop()
    thread.join(15)
    assert attempts[b'"always-fails"'] == 3
    dead = read_topic(kafka_bootstrap, topic + ".dlq", expect=1)
    assert [m.value() for m in dead] == [b'"always-fails"']
    assert message_headers(dead[0])["haven.dlq.attempts"] == b"3"


def test_offsets_are_stored_only_after_success_so_a_new_member_resumes(
    kafka_bootstrap: KafkaAccess, producer: EventProducer, topic: str
) -> None:
    """The first member handles "1", then stops while its handler of "2" is still failing (a
    dependency away): the next member gets "2" again, and not "1"."""
    group = f"g-{uuid.uuid4().hex}"
    seen: list[bytes] = []
    failures: list[bytes] = []

    def flaky(msg: Message) -> None:
        if msg.value() == b"2":
            failures.append(b"2")
            raise ConnectionError("the read model is away")
        seen.append(msg.value() or b"")

    loop = ConsumerLoop(
        kafka=kafka_bootstrap, group_id=group, topics=[topic], handler=flaky, producer=producer
    )
    thread = run_loop(loop)
    producer.send(topic, "k", b"1")
    producer.send(topic, "k", b"2")
    wait_until(lambda: seen == [b"1"] and failures, timeout=30, what="1 handled, 2 failing")
    loop.stop()
    thread.join(15)
    assert not thread.is_alive()

    again: list[bytes] = []
    second = ConsumerLoop(
        kafka=kafka_bootstrap,
        group_id=group,
        topics=[topic],
        handler=lambda m: again.append(m.value() or b""),
        producer=producer,
    )
    thread = run_loop(second)
    wait_until(lambda: second.ready and again == [b"2"], timeout=30, what="only 2, redelivered")
    second.stop()
    thread.join(15)
    assert again == [b"2"]


def test_kafka_and_dlq_names_follow_the_contract() -> None:
    assert dlq_of(SUBMISSIONS).name == "haven.submissions.v1.dlq"
