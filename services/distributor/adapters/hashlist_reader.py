"""Feeds the ordered ``HashListView`` from ``haven.hashlist.v1`` and moves its stable point.

Every distributor instance reads the whole hash list from the beginning (assigned partitions,
no consumer group offsets, ``read_committed``) and keeps reading. After each poll it checks
the ``StabilityProbe`` (see ``view.py``): the highest sequence seen before the end offsets
were fetched becomes stable once the positions reach those offsets. Ready once everything
the topic held at start is loaded and stable.
"""

from __future__ import annotations

import logging

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from services.common.consumer import consumer_config
from services.common.runner import SessionWorker
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings
from services.distributor.view import HashListView, StabilityProbe, ViewEntry, entry_from_hashlist

log = logging.getLogger(__name__)


class HashListReader(SessionWorker):
    """A worker thread keeping ``view`` equal to the committed hash list (reconnects after any
    failure; the view it built is kept)."""

    def __init__(
        self, settings: DistributorSettings, view: HashListView, metrics: DistributorMetrics
    ) -> None:
        super().__init__()
        self.settings = settings
        self.view = view
        self.metrics = metrics

    def _session(self) -> None:
        s = self.settings
        topic = s.topic("haven.hashlist.v1")
        consumer = Consumer(
            consumer_config(
                s.kafka_bootstrap,
                s.group("view"),
                **{"enable.auto.commit": False, "fetch.wait.max.ms": 50},
            )
        )
        try:
            partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
            tps = [TopicPartition(topic, p) for p in partitions]
            # Restart where the view stands: entries already held are skipped by ``apply``.
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            probe = StabilityProbe()
            while not self._stopping.is_set():
                if not probe.waiting:
                    probe.start(self.view.max_seen, self._ends(consumer, tps))
                batch: list[ViewEntry] = []
                for msg in consumer.consume(5000, timeout=0.1):
                    if msg.error() or msg.value() is None:
                        continue
                    try:
                        batch.append(entry_from_hashlist(msg.value() or b""))
                    except (ValueError, KeyError, TypeError):
                        log.error(
                            "unreadable hash-list entry skipped",
                            extra={"partition": msg.partition(), "offset": msg.offset()},
                        )
                if batch:
                    self.view.apply_all(batch)
                positions = {tp.partition: tp.offset for tp in consumer.position(tps)}
                stable = probe.reached(positions)
                if stable is not None:
                    self.view.advance(stable)
                    self.metrics.stable_sequence.set(self.view.stable)
                    if self.view.stable >= self.view.max_seen:
                        self.ready = True
        finally:
            consumer.close()

    @staticmethod
    def _ends(consumer: Consumer, tps: list[TopicPartition]) -> dict[int, int]:
        ends = {}
        for tp in tps:
            low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            if high > low:
                ends[tp.partition] = high
        return ends
