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
from typing import Any

from confluent_kafka import Consumer, Message, Producer
from pydantic import TypeAdapter, ValidationError

from schemas.events import HashListEntry, SubmissionEvent
from schemas.topics import HASHLIST, SUBMISSIONS
from services.common.catch_up import CatchUp, KafkaTopicReader, Record, TopicReader
from services.common.consumer import dead_letters
from services.common.kafka import consumer_config, producer_config
from services.common.runner import SessionWorker
from services.distributor.domain.registry import HashRegistry
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings

log = logging.getLogger(__name__)
SUBMISSION = TypeAdapter[Any](SubmissionEvent)


def read_hash_list(reader: TopicReader, topic: str, registry: HashRegistry) -> int:
    """Load every committed entry of the hash list into ``registry``; returns how many
    messages were read (poison and tombstones included)."""

    def load(msg: Record) -> None:
        if msg.value() is None:
            return
        try:
            entry = HashListEntry.model_validate_json(msg.value() or b"")
        except ValidationError:
            # Not written by the registry (it writes only validated entries): someone else's
            # poison. It holds no state of ours, so skip it rather than stall.
            log.error(
                "unreadable hash-list entry skipped",
                extra={"partition": msg.partition(), "offset": msg.offset()},
            )
            return
        registry.load(entry)

    return reader.read_to_end(topic, load)


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
                s.kafka,
                **{"transactional.id": s.group("registry") + ".tx", "linger.ms": 5},
            )
        )
        producer.init_transactions(30)
        registry = HashRegistry()
        loaded = read_hash_list(KafkaTopicReader(s.kafka), s.topic(HASHLIST), registry)
        self.registry = registry
        self.metrics.hash_list_size.set(len(registry.entries))
        log.info("hash list rebuilt", extra={"entries": loaded, "sequence": registry.sequence})
        consumer = Consumer(
            consumer_config(s.kafka, s.group("registry"), **{"enable.auto.commit": False})
        )
        catch_up = CatchUp()
        consumer.subscribe(
            [s.topic(SUBMISSIONS)],
            on_assign=lambda _, partitions: catch_up.assigned(partitions),
            on_revoke=lambda _, partitions: catch_up.revoked(partitions),
        )
        try:
            while not self._stopping.is_set():
                polled = consumer.consume(s.registry_batch_size, timeout=0.3)
                batch = [m for m in polled if not catch_up.observe(m) and not m.error()]
                if batch:
                    self._transact(producer, consumer, registry, batch)
                if catch_up.unmeasured:
                    catch_up.measure(consumer)
                self.ready = catch_up.update(consumer)
        finally:
            consumer.close()
            producer.flush(10)

    def _transact(
        self, producer: Producer, consumer: Consumer, registry: HashRegistry, batch: list[Message]
    ) -> None:
        s = self.settings
        hashlist = s.topic(HASHLIST)
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
        self.metrics.common.consumed.labels(s.topic(SUBMISSIONS)).inc(len(batch))
        self.metrics.common.produced.labels(hashlist).inc(changed)
        self.metrics.hash_list_size.set(len(registry.entries))

    def _dead_letter(self, producer: Producer, msg: Message, exc: ValidationError) -> None:
        topic = msg.topic() or ""
        log.error("submission sent to DLQ", extra={"topic": topic, "offset": msg.offset()})
        group = self.settings.group("registry")
        for out in dead_letters(msg, group_id=group, error=exc, attempts=1):
            producer.produce(out.topic, key=out.key, value=out.value, headers=out.headers)
        self.metrics.common.dead_lettered.labels(topic).inc()
