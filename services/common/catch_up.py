"""Reading Kafka to the end, and knowing when a consumer has caught up: the one answer.

Seven places used to answer "have I read everything?" each in its own way, and the copies
disagreed (``end > 0`` in one, ``high > low`` in another). One decided only when a poll came
back empty, which under a steady trickle of submissions never happens: a distributor
restarted under load stayed unready for ever.

A partition is caught up once either
- the consumer's position has reached the end offset measured when the partition was
  assigned. The goal is fixed then, so messages that keep arriving cannot move it: ready
  means "within the lag of the start-up read", whether or not traffic flows; or
- librdkafka reported ``_PARTITION_EOF`` for it (``enable.partition.eof``, on in
  ``consumer_config``): the consumer reached the end as it stood at that fetch. This covers
  what positions cannot: a partition whose committed or stored position already is the end
  (nothing is fetched, so the position stays unknown), and a ``read_committed`` read whose
  last records are transaction markers.
A partition that is empty when measured (high watermark = low) is caught up at once.

``CatchUp`` latches. Once every assigned partition has been caught up it stays done, so a
later rebalance that hands this instance more partitions does not make a serving instance
unready (the lag metrics report how far behind it is). A session that starts over makes a
new ``CatchUp``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from schemas.security import KafkaAccess
from services.common.kafka import consumer_config

Key = tuple[str, int]


class Record(Protocol):
    """One message read back (a confluent ``Message`` is one)."""

    def topic(self) -> str | None: ...

    def partition(self) -> int | None: ...

    def offset(self) -> int | None: ...

    def key(self) -> bytes | None: ...

    def value(self) -> bytes | None: ...


class TopicReader(Protocol):
    """Where a service rebuilds state from (the hash list, the delivery records): every
    message of a topic from its first offset to (at least) its end as it stood when asked,
    in offset order per partition. ``KafkaTopicReader`` reads the broker; the in-memory fake
    of the unit tests reads what its publisher was given; both pass
    ``tests/contract/topic_reader.py``."""

    def read_to_end(self, topic: str, handle: Callable[[Record], None]) -> int: ...


@dataclass(frozen=True)
class KafkaTopicReader:
    """``TopicReader`` over the broker, as the principal of ``kafka`` (``read_committed``)."""

    kafka: KafkaAccess

    def read_to_end(self, topic: str, handle: Callable[[Record], None]) -> int:
        return read_to_end(self.kafka, topic, handle)


def is_end_of_partition(msg: Message) -> bool:
    """``msg`` is librdkafka's end-of-partition event, not a message."""
    error = msg.error()
    return error is not None and error.code() == KafkaError._PARTITION_EOF


def watermarks(
    consumer: Consumer, partitions: Iterable[TopicPartition], *, timeout: float = 10.0
) -> dict[Key, tuple[int, int]]:
    """The current (first, end) offsets of each partition, asked of the broker.

    Two batched ListOffsets requests (``offsets_for_times`` with the protocol's "earliest" and
    "latest" timestamps, -2 and -1) rather than one watermark query per partition: each of those
    waits behind the consumer's long-polling fetch on the same connection (about 0.45 s each,
    measured), which made a 12-partition consumer spend seconds per check instead of polling.
    With ``read_committed`` the end is the last stable offset, the end such a reader can reach.
    """
    wanted = [(tp.topic, tp.partition) for tp in partitions]
    if not wanted:
        return {}
    marks: dict[Key, list[int]] = {key: [0, 0] for key in wanted}
    for index, timestamp in ((0, -2), (1, -1)):
        query = [TopicPartition(t, p, timestamp) for t, p in wanted]
        for tp in consumer.offsets_for_times(query, timeout=timeout):
            if tp.error is not None:
                raise KafkaException(tp.error)
            marks[(tp.topic, tp.partition)][index] = int(tp.offset)
    return {key: (low, high) for key, (low, high) in marks.items()}


def end_offsets(
    consumer: Consumer, partitions: Iterable[TopicPartition], *, timeout: float = 10.0
) -> dict[Key, int]:
    """The high watermark of each partition that holds anything (an empty one has no end to
    reach)."""
    marks = watermarks(consumer, partitions, timeout=timeout)
    return {key: high for key, (low, high) in marks.items() if high > low}


def topic_partitions(
    consumer: Consumer, topic: str, *, offset: int = OFFSET_BEGINNING, timeout: float = 10.0
) -> list[TopicPartition]:
    """Every partition of ``topic`` at ``offset``; raises if the topic does not exist."""
    metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    return [TopicPartition(topic, p, offset) for p in sorted(metadata.partitions)]


class CatchUp:
    """Whether the partitions assigned to one consumer have been read to their start-up end.

    Feed it the assignment (``assigned``/``revoked``), let it ``measure`` the ends of new
    partitions (a broker call), show it every polled message (``observe``), and compare
    positions (``update``, local) after each poll.
    """

    def __init__(self) -> None:
        self._targets: dict[Key, int | None] = {}  # None: end not measured yet
        self._assigned = False
        self._done = False

    @property
    def done(self) -> bool:
        if not self._done and self._assigned and not self._targets:
            self._done = True
        return self._done

    @property
    def pending(self) -> int:
        """Partitions not yet caught up (0 once done)."""
        return 0 if self.done else len(self._targets)

    def describe(self) -> dict[str, object]:
        """For logs: what is still awaited (topic/partition → end offset, None if unmeasured)."""
        pending = {f"{t}/{p}": end for (t, p), end in sorted(self._targets.items())}
        return {"assigned": self._assigned, "done": self._done, "pending": pending}

    @property
    def unmeasured(self) -> bool:
        return not self._done and any(target is None for target in self._targets.values())

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._targets.setdefault((tp.topic, tp.partition), None)
        self._assigned = True

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._targets.pop((tp.topic, tp.partition), None)
        # Between a revocation and the next assignment nothing is assigned: not "done".
        self._assigned = bool(self._targets)

    def measure(self, consumer: Consumer, *, timeout: float = 10.0) -> None:
        """Fix the goal of every partition assigned since the last call."""
        if self._done:
            return
        unmeasured = [TopicPartition(t, p) for (t, p), end in self._targets.items() if end is None]
        ends = end_offsets(consumer, unmeasured, timeout=timeout)
        for tp in unmeasured:
            key = (tp.topic, tp.partition)
            if key not in self._targets:
                continue  # revoked, or reached (EOF) while we asked
            if key in ends:
                self._targets[key] = ends[key]
            else:
                del self._targets[key]  # empty: nothing to catch up on

    def observe(self, msg: Message) -> bool:
        """Note an end-of-partition event; True if ``msg`` was one (and is no message)."""
        if not is_end_of_partition(msg):
            return False
        self._targets.pop((msg.topic() or "", msg.partition() or 0), None)
        return True

    def update(self, consumer: Consumer) -> bool:
        """Compare the consumer's positions with the goals; returns ``done``."""
        if self._done:
            return True
        measured = [
            TopicPartition(t, p) for (t, p), end in self._targets.items() if end is not None
        ]
        if measured:
            for tp in consumer.position(measured):
                target = self._targets.get((tp.topic, tp.partition))
                if target is not None and tp.offset >= target:
                    del self._targets[(tp.topic, tp.partition)]
        return self.done


def read_to_end(
    kafka: KafkaAccess,
    topics: str | Iterable[str],
    handle: Callable[[Message], None],
    *,
    timeout: float | None = None,
    batch: int = 1000,
    overrides: dict[str, Any] | None = None,
) -> int:
    """Read every committed message of ``topics`` from the first offset up to (at least) the
    end each partition had when the read began, calling ``handle`` for each in partition
    order; returns how many were handled. ``timeout`` bounds the whole read (``TimeoutError``).
    """
    names = [topics] if isinstance(topics, str) else list(topics)
    # Partitions are assigned, never subscribed, and no offset is committed: the group id is
    # never used on the broker, so the principal needs no group ACL for it.
    config = consumer_config(kafka, "haven.read-to-end", **{"enable.auto.commit": False})
    config.update(overrides or {})
    consumer = Consumer(config)
    deadline = None if timeout is None else time.monotonic() + timeout
    count = 0
    try:
        partitions = [tp for name in names for tp in topic_partitions(consumer, name)]
        catch_up = CatchUp()
        catch_up.assigned(partitions)
        catch_up.measure(consumer)
        consumer.assign(partitions)
        while not catch_up.update(consumer):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"could not read {', '.join(names)} to the end in {timeout} s")
            for msg in consumer.consume(batch, timeout=0.5):
                if catch_up.observe(msg) or msg.error() is not None:
                    continue
                handle(msg)
                count += 1
        return count
    finally:
        consumer.close()
