"""``services.common.catch_up`` against the real broker: reading to the end, and readiness that
holds while messages keep arriving (the defect that left a restarted distributor unready)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from schemas.security import KafkaAccess
from services.common.catch_up import CatchUp, read_to_end
from services.common.kafka import EventProducer, consumer_config, producer_config
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(kafka_bootstrap: KafkaAccess, namespace: str) -> Iterator[str]:
    """A fresh three-partition topic, deleted afterwards."""
    name = f"{namespace}.catchup.{uuid.uuid4().hex[:8]}"
    admin = AdminClient(kafka_bootstrap.config())
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(30)
    yield name
    admin.delete_topics([name])[name].result(30)


def write(bootstrap: KafkaAccess, topic: str, keyed: list[tuple[str, int]]) -> None:
    """Each (key, partition), acknowledged."""
    producer = Producer(producer_config(bootstrap))
    for key, partition in keyed:
        producer.produce(topic, key=key, value=b"v", partition=partition)
    assert producer.flush(30) == 0


def keys(messages: list[Message]) -> list[bytes]:
    return sorted(m.key() or b"" for m in messages)


def test_read_to_end_reads_every_message_with_an_empty_partition(
    kafka_bootstrap: KafkaAccess, topic: str
) -> None:
    write(kafka_bootstrap, topic, [(f"k{i:02d}", i % 2) for i in range(20)])  # 2 stays empty
    found: list[Message] = []
    assert read_to_end(kafka_bootstrap, topic, found.append, timeout=30) == 20
    assert keys(found) == sorted(f"k{i:02d}".encode() for i in range(20))


def test_read_to_end_steps_over_transaction_markers_and_aborted_writes(
    kafka_bootstrap: KafkaAccess, topic: str
) -> None:
    """The last records of a transactionally written partition are commit/abort markers, which
    the reader never sees as messages: ``offset + 1 == end`` would wait for ever."""
    producer = Producer(producer_config(kafka_bootstrap, **{"transactional.id": topic}))
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"kept", value=b"v", partition=0)
    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"aborted", value=b"v", partition=0)
    producer.abort_transaction(30)
    found: list[Message] = []
    assert read_to_end(kafka_bootstrap, topic, found.append, timeout=30) == 1
    assert keys(found) == [b"kept"]


def test_read_to_end_of_a_missing_topic_is_an_error(
    kafka_bootstrap: KafkaAccess, namespace: str
) -> None:
    with pytest.raises(KafkaException):
        read_to_end(kafka_bootstrap, f"{namespace}.no-such-topic", lambda msg: None, timeout=30)


def follow(
    bootstrap: KafkaAccess, topic: str, group: str, catch_up: CatchUp, stop: threading.Event
) -> int:
    """A group consumer that consumes and tracks ``catch_up`` until ``stop``; returns the count."""
    consumer = Consumer(consumer_config(bootstrap, group))
    consumer.subscribe(
        [topic],
        on_assign=lambda _, parts: catch_up.assigned(parts),
        on_revoke=lambda _, parts: catch_up.revoked(parts),
    )
    count = 0
    try:
        while not stop.is_set():
            for msg in consumer.consume(100, timeout=0.2):
                if not catch_up.observe(msg) and msg.error() is None:
                    count += 1
                    consumer.store_offsets(message=msg)
            if catch_up.unmeasured:
                catch_up.measure(consumer)
            catch_up.update(consumer)
    finally:
        consumer.close()
    return count


def test_catch_up_is_reached_while_messages_keep_arriving(
    kafka_bootstrap: KafkaAccess, topic: str
) -> None:
    """A backlog, then a producer that never pauses longer than a poll: ready all the same."""
    producer = EventProducer(kafka_bootstrap)
    for i in range(3000):
        producer.produce(topic, str(i), b"backlog")
    producer.produce(topic, "last", b"backlog").result(30)
    stop_producing = threading.Event()

    def trickle() -> None:
        while not stop_producing.wait(0.02):  # 50 messages/s: a poll never comes back empty
            producer.produce(topic, "live", b"live")

    producing = threading.Thread(target=trickle, daemon=True)
    producing.start()
    catch_up, stop = CatchUp(), threading.Event()
    consumed: list[int] = []
    following = threading.Thread(
        target=lambda: consumed.append(
            follow(kafka_bootstrap, topic, f"g-{uuid.uuid4().hex}", catch_up, stop)
        ),
        daemon=True,
    )
    following.start()
    try:
        wait_until(lambda: catch_up.done, timeout=60, what="caught up under a steady stream")
        assert producing.is_alive()  # traffic was flowing when it became ready
    finally:
        stop_producing.set()
        stop.set()
        following.join(30)
        producing.join(5)
        producer.close()
    assert consumed and consumed[0] >= 3001


def test_a_group_whose_committed_offsets_are_at_the_end_is_caught_up_at_once(
    kafka_bootstrap: KafkaAccess, topic: str
) -> None:
    """Nothing is fetched when the committed offset already is the end; the end-of-partition
    event is what says so."""
    write(kafka_bootstrap, topic, [(str(i), i % 3) for i in range(30)])
    group = f"g-{uuid.uuid4().hex}"
    first, stop = CatchUp(), threading.Event()
    reader = threading.Thread(target=follow, args=(kafka_bootstrap, topic, group, first, stop))
    reader.start()
    wait_until(lambda: first.done, timeout=60, what="the first consumer to catch up")
    stop.set()
    reader.join(30)  # closing commits the stored offsets: the group stands at the end

    again, stop = CatchUp(), threading.Event()
    count: list[int] = []
    reader = threading.Thread(
        target=lambda: count.append(follow(kafka_bootstrap, topic, group, again, stop))
    )
    reader.start()
    try:
        wait_until(lambda: again.done, timeout=60, what="the restarted consumer to catch up")
    finally:
        stop.set()
        reader.join(30)
    assert count == [0]  # it read nothing: ready from the end-of-partition events alone
