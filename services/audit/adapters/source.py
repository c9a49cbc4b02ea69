"""The audit log's Kafka input: every audited partition, read from the log's own positions.

Why not a consumer-group subscription with committed offsets: the log must hold exactly one
entry per source message, so the only trustworthy record of "how far did we get" is the one
written atomically with the entries (``AuditLog.positions()``). Partitions are therefore
assigned manually (``incremental_assign``) at the offsets the log stored, or from the
beginning for partitions the log has never seen; Kafka's committed offsets are never read.
New topics (a platform's ``haven.platform.<id>.v1`` appears when it registers) are found by
re-reading the cluster metadata every ``discovery_interval_s``; they are read from their
first offset, so nothing written before discovery is missed.

Manual assignment also means no rebalances, which suits a single writer. The positions are
still committed (asynchronously) to the consumer group after each batch, only so that the
usual lag tooling shows how far behind the audit is.

Read-committed isolation: aborted transactional writes never reach the log, and the
consumer's position steps over transaction markers, so stored positions may be one past
the last entry of a partition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message
from confluent_kafka import TopicPartition as KafkaPartition

from schemas.security import KafkaAccess
from services.audit.domain import SourceMessage, is_audited
from services.audit.log.storage import TopicPartition
from services.common.catch_up import CatchUp, is_end_of_partition, watermarks
from services.common.kafka import consumer_config

log = logging.getLogger(__name__)


def source_of(msg: Message) -> SourceMessage:
    kind, timestamp = msg.timestamp()
    key = msg.key()
    value = msg.value()
    return SourceMessage(
        topic=msg.topic() or "",
        partition=msg.partition() or 0,
        offset=msg.offset() or 0,
        key=key.encode() if isinstance(key, str) else key,
        value=value.encode() if isinstance(value, str) else value,
        timestamp_ms=timestamp if kind != 0 and timestamp >= 0 else None,
    )


class KafkaSource:
    """Reads every audited partition of one namespace; not thread-safe (one worker thread)."""

    def __init__(
        self, *, kafka: KafkaAccess, group_id: str, namespace: str, discovery_interval_s: float
    ) -> None:
        self._namespace = namespace
        self._interval = discovery_interval_s
        self._consumer = Consumer(
            consumer_config(
                kafka, group_id, **{"enable.auto.commit": False, "fetch.wait.max.ms": 100}
            )
        )
        self._assigned: set[TopicPartition] = set()
        self._next: dict[TopicPartition, int] = {}  # known next offset to read
        self._catch_up = CatchUp()
        self._ends_reached: list[Message] = []  # end-of-partition events not yet tracked
        self._discovered_at: float | None = None

    @property
    def assigned(self) -> frozenset[TopicPartition]:
        return frozenset(self._assigned)

    def discover(self, stored: Mapping[TopicPartition, int], *, force: bool = False) -> int:
        """Assign audited partitions not yet assigned, at their ``stored`` positions.

        Runs at most every ``discovery_interval_s`` unless forced; returns how many
        partitions were added.
        """
        now = time.monotonic()
        recent = self._discovered_at is not None and now - self._discovered_at < self._interval
        if recent and not force:
            return 0
        try:
            fresh = self._new_partitions(stored)
        except KafkaException as exc:  # broker away: stay unready, try again next round
            log.warning("audit topic discovery failed", extra={"error": str(exc)})
            return 0
        if fresh:
            self._consumer.incremental_assign(fresh)
            self._assigned.update(TopicPartition(p.topic, p.partition) for p in fresh)
            log.info("audit partitions assigned", extra={"partitions": len(fresh)})
        self._catch_up.assigned(fresh)
        self._discovered_at = now
        return len(fresh)

    def _new_partitions(self, stored: Mapping[TopicPartition, int]) -> list[KafkaPartition]:
        metadata = self._consumer.list_topics(timeout=10)
        fresh: list[KafkaPartition] = []
        for name, topic in metadata.topics.items():
            if topic.error is not None or not is_audited(name, self._namespace):
                continue
            for partition in topic.partitions:
                tp = TopicPartition(name, partition)
                if tp in self._assigned:
                    continue
                start = stored.get(tp)
                fresh.append(
                    KafkaPartition(name, partition, OFFSET_BEGINNING if start is None else start)
                )
        never_read = [p for p in fresh if p.offset == OFFSET_BEGINNING]
        firsts = {key: low for key, (low, _) in watermarks(self._consumer, never_read).items()}
        for p in fresh:
            key = (p.topic, p.partition)
            self._next[TopicPartition(*key)] = firsts.get(key, p.offset)
        return fresh

    def poll(self, max_messages: int, timeout: float) -> list[SourceMessage]:
        """Up to ``max_messages`` messages, waiting at most ``timeout`` for the first."""
        batch = []
        for msg in self._consumer.consume(num_messages=max_messages, timeout=timeout):
            if is_end_of_partition(msg):
                self._ends_reached.append(msg)
                continue
            if msg.error():
                log.warning("consumer error", extra={"error": str(msg.error())})
                continue
            source = source_of(msg)
            if is_audited(source.topic, self._namespace):
                batch.append(source)
        return batch

    def track(self) -> None:
        """Move ``caught_up`` on; call it once the last polled batch is in the log, so that
        ready never runs ahead of what the log holds."""
        for msg in self._ends_reached:
            self._catch_up.observe(msg)
        self._ends_reached.clear()
        try:
            if self._catch_up.unmeasured:
                self._catch_up.measure(self._consumer)
            self._catch_up.update(self._consumer)
        except KafkaException as exc:  # broker away: readiness waits for it
            log.warning("audit catch-up check failed", extra={"error": str(exc)})

    def positions(self) -> dict[TopicPartition, int]:
        """Next offset per assigned partition, as far as the consumer has read."""
        if self._assigned:
            wanted = [KafkaPartition(tp.topic, tp.partition) for tp in self._assigned]
            for p in self._consumer.position(wanted):
                tp = TopicPartition(p.topic, p.partition)
                if p.offset >= 0 and p.offset > self._next.get(tp, 0):
                    self._next[tp] = p.offset
        return dict(self._next)

    @property
    def caught_up(self) -> bool:
        """Every partition has been read up to the end it had when it was assigned (see
        ``services.common.catch_up``; moved on by ``track``)."""
        return self._discovered_at is not None and self._catch_up.done

    def commit(self, positions: Mapping[TopicPartition, int]) -> None:
        """Publish positions to the consumer group for lag tools (never read back)."""
        if not positions:
            return
        offsets = [KafkaPartition(tp.topic, tp.partition, n) for tp, n in positions.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            log.warning("could not commit audit positions", extra={"error": str(exc)})

    def close(self) -> None:
        self._consumer.close()
