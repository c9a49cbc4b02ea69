"""The status projector: cases, deliveries, matches and actions into the Redis read model.

One consumer over ``haven.cases.v1``, ``haven.deliveries.v1``, ``haven.matches.v1`` and
``haven.actions.v1`` (the shared ``ConsumerLoop``: retries, DLQ for poison messages). Where
each partition starts is not the group's committed offset but the position kept in Redis
with the projected state (see ``adapters.store``): an emptied Redis means "start from the
beginning", so the read model rebuilds itself from Kafka. Each effect is idempotent on its
own (set membership; latest action by time then event id; highest-ranked snapshot), and the
position check makes a redelivered message a no-op.

Redis emptied while intake runs (a restart without persistence): ``StatusWorker`` keeps an
epoch marker beside the read model and checks it every second; when it is gone, the consumer
loop is stopped and a new one starts from the (now absent, so earliest) positions, rebuilding
the read model from Kafka without restarting the service.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from functools import partial

from confluent_kafka import OFFSET_BEGINNING, Message, TopicPartition

from schemas.events import (
    ActionReported,
    CaseSnapshot,
    DeliveryOutcome,
    DeliveryRecorded,
    MatchFound,
)
from schemas.signals import hash_key
from schemas.topics import ACTIONS, CASES, DELIVERIES, MATCHES
from services.common.consumer import ConsumerLoop
from services.common.kafka import EventProducer
from services.common.redis import TRANSIENT_REDIS_ERRORS
from services.intake.adapters.ports import Position, ReadModel
from services.intake.adapters.store import ReadModelWriter
from services.intake.domain import report_rank
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings

log = logging.getLogger(__name__)

STATUS_TOPICS = (CASES, DELIVERIES, MATCHES, ACTIONS)


class StatusProjector:
    """Applies one message to the read model, together with its position.

    It speaks in fingerprint keys and platform ids through ``ports.ReadModel``; how the
    model is stored is the adapter's business. A value that does not parse raises pydantic's
    ``ValidationError``, which the consumer loop dead-letters at once."""

    def __init__(self, writer: ReadModel, settings: IntakeSettings) -> None:
        self._writer = writer
        self._topics = {settings.topic(spec): spec.name for spec in STATUS_TOPICS}

    def start_positions(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            stored = self._writer.position(tp.topic, tp.partition)
            tp.offset = OFFSET_BEGINNING if stored is None else stored

    def handle(self, msg: Message) -> None:
        topic = msg.topic() or ""
        at = Position(topic, msg.partition() or 0, msg.offset() or 0)
        match self._topics.get(topic):
            case CASES.name:
                snapshot = CaseSnapshot.model_validate_json(msg.value() or b"")
                self._writer.apply_case(at, snapshot)
            case DELIVERIES.name:
                delivery = DeliveryRecorded.model_validate_json(msg.value() or b"")
                if delivery.outcome is DeliveryOutcome.DELIVERED and delivery.keys:
                    self._writer.apply_delivered(at, delivery.keys, delivery.platform_id)
                else:
                    self._writer.skip(at)
            case MATCHES.name:
                found = MatchFound.model_validate_json(msg.value() or b"")
                key = hash_key(found.signal, found.value)
                self._writer.apply_matched(at, key, found.platform_id)
            case ACTIONS.name:
                action = ActionReported.model_validate_json(msg.value() or b"")
                key = hash_key(action.signal, action.value)
                self._writer.apply_action(
                    at,
                    key,
                    action.platform_id,
                    rank=report_rank(action),
                    action=action.action.value,
                )
            case _:
                self._writer.skip(at)


def status_worker(
    *,
    settings: IntakeSettings,
    writer: ReadModelWriter,
    producer: EventProducer,
    metrics: IntakeMetrics,
) -> StatusWorker:
    """The status projector's worker; each (re)start makes a new consumer loop."""
    return StatusWorker(writer, partial(status_loop, settings, writer, producer, metrics))


def status_loop(
    settings: IntakeSettings,
    writer: ReadModelWriter,
    producer: EventProducer,
    metrics: IntakeMetrics,
) -> ConsumerLoop:
    projector = StatusProjector(writer, settings)
    hooks = metrics.common.consumer_hooks()
    common_consumed = hooks.consumed

    def consumed(topic: str) -> None:
        common_consumed(topic)
        metrics.projected.labels(topic).inc()

    hooks.consumed = consumed
    return ConsumerLoop(
        kafka=settings.kafka,
        group_id=settings.group("status"),
        topics=[settings.topic(spec) for spec in STATUS_TOPICS],
        handler=projector.handle,
        producer=producer,
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_s=settings.consumer_retry_backoff_s,
        transient_errors=TRANSIENT_REDIS_ERRORS,
        hooks=hooks,
        start_positions=projector.start_positions,
    )


class StatusWorker:
    """The projector's consumer loop, started over from Kafka when Redis loses the model."""

    check_every_s = 1.0

    def __init__(self, writer: ReadModelWriter, make_loop: Callable[[], ConsumerLoop]) -> None:
        self._writer = writer
        self._make_loop = make_loop
        self._loop: ConsumerLoop | None = None
        self._stopping = threading.Event()
        self._epoch = uuid.uuid4().hex

    @property
    def ready(self) -> bool:
        """The projector has caught up with Kafka *and* the read model it filled is still in
        Redis. Asking Redis here (not only every ``check_every_s``) keeps ``/readyz`` from
        answering 200 in the second between Redis losing the model and the watcher noticing."""
        loop = self._loop
        if loop is None or not loop.ready:
            return False
        try:
            return not self._writer.epoch_lost()
        except TRANSIENT_REDIS_ERRORS:
            return False

    def stop(self) -> None:
        self._stopping.set()
        if self._loop is not None:
            self._loop.stop()

    def _watch(self, loop: ConsumerLoop) -> None:
        while not self._stopping.wait(self.check_every_s):
            try:
                lost = self._writer.epoch_lost()
            except TRANSIENT_REDIS_ERRORS:
                continue  # Redis away: nothing to decide until it answers again
            if lost:
                log.warning("the status read model was lost; rebuilding it from Kafka")
                self._loop = None  # unready until the new loop has replayed
                loop.stop()
                return

    def run(self) -> None:
        while not self._stopping.is_set():
            self._loop = None
            try:
                self._writer.mark_epoch(self._epoch)
            except TRANSIENT_REDIS_ERRORS:
                self._stopping.wait(1.0)
                continue
            self._loop = loop = self._make_loop()
            watcher = threading.Thread(target=self._watch, args=(loop,), daemon=True)
            watcher.start()
            loop.run()
