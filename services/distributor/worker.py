"""The registry worker: ``haven.submissions.v1`` → ``haven.hashlist.v1``, exactly once in effect.

Technique: Kafka transactions (consume-transform-produce). Each batch of submissions is
turned into hash-list entries that are produced in one transaction together with the consumer
offsets of that batch (``send_offsets_to_transaction``). Either both become visible or
neither does, so a crash or a redelivery never double-counts a case. We chose transactions
over storing the position with our own state because the state *is* a Kafka topic: the
compacted hash list is the only store, and the transaction makes "entry written" and
"submission consumed" one atomic fact without a second database.

On start (and after any failure) the worker rebuilds its in-memory registry by reading the
hash list from the beginning with ``read_committed``, after ``init_transactions`` has fenced
any previous instance and aborted its open transaction. Only one instance writes at a time
(its ``transactional.id`` is fixed), which keeps the sequence strictly increasing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition
from pydantic import TypeAdapter, ValidationError

from schemas.events import HashListEntry, SubmissionEvent
from services.common.consumer import consumer_config, dead_letter_record
from services.common.kafka import producer_config
from services.common.runner import SessionWorker
from services.distributor.domain import HashRegistry
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings

log = logging.getLogger(__name__)
SUBMISSION = TypeAdapter[Any](SubmissionEvent)


def read_hash_list(bootstrap: str, topic: str, registry: HashRegistry) -> int:
    """Load every committed entry of the hash list into ``registry``; returns entries read."""
    consumer = Consumer(consumer_config(bootstrap, "unused", **{"enable.auto.commit": False}))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        consumer.assign(tps)
        remaining = {p for p, end in ends.items() if end > 0}
        count = 0
        while remaining:
            for msg in consumer.consume(1000, timeout=0.5):
                if msg.error() or msg.value() is None:
                    continue
                try:
                    entry = HashListEntry.model_validate_json(msg.value() or b"")
                except ValidationError:
                    # Not written by the registry (it writes only validated entries): someone
                    # else's poison. It holds no state of ours, so skip it rather than stall.
                    log.error(
                        "unreadable hash-list entry skipped",
                        extra={"partition": msg.partition(), "offset": msg.offset()},
                    )
                    continue
                registry.load(entry)
                count += 1
            for tp in consumer.position([TopicPartition(topic, p) for p in remaining]):
                if tp.offset >= ends[tp.partition]:
                    remaining.discard(tp.partition)
        return count
    finally:
        consumer.close()


class RegistryWorker(SessionWorker):
    """Runs the consume-transform-produce loop until stopped; after any failure the session
    starts over, rebuilding the registry from Kafka."""

    def __init__(self, settings: DistributorSettings, metrics: DistributorMetrics) -> None:
        super().__init__()
        self.settings = settings
        self.metrics = metrics
        self.registry = HashRegistry()

    def _session(self) -> None:
        s = self.settings
        producer = Producer(
            producer_config(
                s.kafka_bootstrap,
                **{"transactional.id": s.group("registry") + ".tx", "linger.ms": 5},
            )
        )
        producer.init_transactions(30)
        registry = HashRegistry()
        loaded = read_hash_list(s.kafka_bootstrap, s.topic("haven.hashlist.v1"), registry)
        self.registry = registry
        self.metrics.hash_list_size.set(len(registry.entries))
        log.info("hash list rebuilt", extra={"entries": loaded, "sequence": registry.sequence})
        consumer = Consumer(
            consumer_config(s.kafka_bootstrap, s.group("registry"), **{"enable.auto.commit": False})
        )
        consumer.subscribe([s.topic("haven.submissions.v1")])
        try:
            while not self._stopping.is_set():
                batch = consumer.consume(s.registry_batch_size, timeout=0.3)
                batch = [m for m in batch if not m.error()]
                if not batch:
                    self.ready = self._caught_up(consumer)
                    continue
                self._transact(producer, consumer, registry, batch)
        finally:
            consumer.close()
            producer.flush(10)

    def _transact(
        self, producer: Producer, consumer: Consumer, registry: HashRegistry, batch: list[Message]
    ) -> None:
        s = self.settings
        hashlist = s.topic("haven.hashlist.v1")
        producer.begin_transaction()
        changed = 0
        for msg in batch:
            try:
                event = SUBMISSION.validate_json(msg.value() or b"")
            except ValidationError as exc:
                self._dead_letter(producer, msg, exc)
                continue
            for entry in registry.apply(event):
                producer.produce(hashlist, key=entry.key, value=entry.model_dump_json())
                changed += 1
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
        )
        producer.commit_transaction(30)
        self.metrics.common.consumed.labels(s.topic("haven.submissions.v1")).inc(len(batch))
        self.metrics.common.produced.labels(hashlist).inc(changed)
        self.metrics.hash_list_size.set(len(registry.entries))

    def _dead_letter(self, producer: Producer, msg: Message, exc: ValidationError) -> None:
        topic = msg.topic() or ""
        log.error("submission sent to DLQ", extra={"topic": topic, "offset": msg.offset()})
        producer.produce(
            topic + ".dlq",
            key=msg.key(),
            value=msg.value(),
            headers=[
                ("haven.dlq.error", f"ValidationError: {exc}"[:2000].encode()),
                ("haven.dlq.source", f"{topic}/{msg.partition()}/{msg.offset()}".encode()),
                ("haven.dlq.group", self.settings.group("registry").encode()),
                ("haven.dlq.attempts", b"1"),
            ],
        )
        record_topic, record_key, record = dead_letter_record(
            msg, group_id=self.settings.group("registry"), error=exc
        )
        producer.produce(record_topic, key=record_key, value=record)
        self.metrics.common.dead_lettered.labels(topic).inc()

    @staticmethod
    def _caught_up(consumer: Consumer) -> bool:
        assignment = consumer.assignment()
        if not assignment:
            return False
        for tp in consumer.position(assignment):
            low, high = consumer.get_watermark_offsets(tp, timeout=5, cached=True)
            if high <= low:
                continue
            if tp.offset < 0:
                committed = consumer.committed([tp], timeout=5)[0].offset
                if committed < high:
                    return False
            elif tp.offset < high:
                return False
        time.sleep(0)
        return True
