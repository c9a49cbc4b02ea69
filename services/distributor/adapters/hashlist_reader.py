"""Feeds the ordered ``HashListView`` from ``haven.hashlist.v1`` and moves its stable point.

Every distributor instance reads the whole hash list from the beginning (assigned partitions,
no consumer group offsets, ``read_committed``) and keeps reading. After each poll it checks
the ``StabilityProbe`` (see ``domain/view.py``): the highest sequence seen before the end offsets
were fetched becomes stable once the positions reach those offsets. Ready once everything
the topic held at start is loaded and stable: the first probe that completes proves every
entry of the start-up ends is in memory, and the highest sequence seen then becomes the
readiness goal, which the next probe reaches. Under a steady stream of new entries ``stable``
always trails ``max_seen``, so "stable has caught up with max_seen" would never hold.
"""

from __future__ import annotations

import logging

from confluent_kafka import Consumer

from schemas.topics import HASHLIST
from services.common.catch_up import end_offsets, topic_partitions
from services.common.kafka import consumer_config
from services.common.runner import SessionWorker
from services.distributor.domain.view import (
    HashListView,
    StabilityProbe,
    ViewEntry,
    entry_from_hashlist,
)
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings

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
        topic = s.topic(HASHLIST)
        consumer = Consumer(
            consumer_config(
                s.kafka,
                s.group("view"),
                **{"enable.auto.commit": False, "fetch.wait.max.ms": 50},
            )
        )
        try:
            # Restart where the view stands: entries already held are skipped by ``apply``.
            tps = topic_partitions(consumer, topic)
            consumer.assign(tps)
            probe = StabilityProbe()
            goal: int | None = None  # readiness: this sequence stable (set by the first probe)
            while not self._stopping.is_set():
                if not probe.waiting:
                    ends = end_offsets(consumer, tps)
                    probe.start(self.view.max_seen, {p: end for (_, p), end in ends.items()})
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
                    if goal is None:
                        goal = self.view.max_seen
                    if self.view.stable >= goal:
                        self.ready = True
        finally:
            consumer.close()
