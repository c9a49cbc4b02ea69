"""The consumer loop every service uses: at-least-once, with retries and a dead-letter queue.

The offset of a message is stored only after its handler succeeded (``enable.auto.offset.store``
is off), so a crash redelivers rather than loses; handlers are idempotent on ``event_id`` or a
natural key. A message that keeps failing goes to ``<topic>.dlq`` with the error in its headers
and the loop carries on; a message that cannot even be parsed goes there at once. Errors of the
infrastructure (a broker or Redis away) are retried until it comes back: sending those to the
DLQ would turn an outage into lost work.

``ready`` turns true once the consumer is assigned and has caught up with the end offsets
measured at assignment (``services.common.catch_up``), whether or not messages keep
arriving; that is what ``/readyz`` reports.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from schemas.events import DeadLettered
from schemas.security import KafkaAccess
from services.common.catch_up import CatchUp
from services.common.kafka import DeliveryFailed, EventProducer, Headers, consumer_config

log = logging.getLogger(__name__)

Handler = Callable[[Message], None]

# Errors that mean "the message itself is bad": retrying cannot help.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)
# Errors that mean "a dependency is away": retry until it is back, never dead-letter.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    DeliveryFailed,
    KafkaException,
)


@dataclass
class ConsumerHooks:
    """Optional callbacks for metrics; each receives the topic name."""

    consumed: Callable[[str], None] = lambda topic: None
    dead_lettered: Callable[[str], None] = lambda topic: None
    lag: Callable[[str, int, int], None] = lambda topic, partition, lag: None


def deadletters_topic(source_topic: str) -> str:
    """``haven.deadletters.v1`` in the namespace of ``source_topic`` (``<ns>.haven.x.v1``)."""
    namespace, _, _ = source_topic.partition("haven.")
    return f"{namespace}haven.deadletters.v1"


@dataclass(frozen=True)
class Outgoing:
    """One message to produce: where, key, value and headers."""

    topic: str
    key: str | bytes | None
    value: bytes | None
    headers: Headers


def dead_letters(
    msg: Message, *, group_id: str, error: BaseException, attempts: int
) -> tuple[Outgoing, Outgoing]:
    """What dead-lettering ``msg`` produces: ``msg`` unchanged on ``<topic>.dlq`` with why it
    failed in its headers, and a ``DeadLettered`` record on ``haven.deadletters.v1`` saying
    where it came from and why, never its payload. Sent by ``dead_letter`` (plain producer)
    and inside the registry's transaction alike."""
    source = msg.topic() or ""
    reason = f"{type(error).__name__}: {error}"
    original = msg.headers() or []
    headers: Headers = list(original.items()) if isinstance(original, dict) else list(original)
    headers += [
        ("haven.dlq.error", reason[:2000].encode()),
        ("haven.dlq.source", f"{source}/{msg.partition()}/{msg.offset()}".encode()),
        ("haven.dlq.group", group_id.encode()),
        ("haven.dlq.attempts", str(attempts).encode()),
    ]
    record = DeadLettered(
        source_topic=source,
        source_partition=msg.partition() or 0,
        source_offset=msg.offset() or 0,
        consumer_group=group_id,
        error=reason[:500],
    )
    return (
        Outgoing(f"{source}.dlq", msg.key(), msg.value(), headers),
        Outgoing(deadletters_topic(source), source.encode(), record.model_dump_json().encode(), []),
    )


def dead_letter(
    producer: EventProducer, msg: Message, *, group_id: str, error: BaseException, attempts: int
) -> None:
    """Dead-letter ``msg`` (see ``dead_letters``); blocks until both are acknowledged."""
    for out in dead_letters(msg, group_id=group_id, error=error, attempts=attempts):
        producer.send(out.topic, out.key, out.value, headers=out.headers or None)


class ConsumerLoop:
    """Consume ``topics`` with ``handler`` until ``stop()``; run it in its own thread."""

    def __init__(
        self,
        *,
        kafka: KafkaAccess,
        group_id: str,
        topics: list[str],
        handler: Handler,
        producer: EventProducer,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        transient_errors: tuple[type[BaseException], ...] = (),
        hooks: ConsumerHooks | None = None,
        overrides: dict[str, Any] | None = None,
        start_positions: Callable[[list[TopicPartition]], None] | None = None,
    ) -> None:
        """``start_positions``, if given, sets ``offset`` on newly assigned partitions (e.g.
        positions kept atomically with a read model); the group's committed offsets are then
        ignored for where to start."""
        self.group_id = group_id
        self.topics = topics
        self._handler = handler
        self._producer = producer
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_s
        self._transient = TRANSIENT_ERRORS + transient_errors
        self._hooks = hooks or ConsumerHooks()
        self._consumer = Consumer(consumer_config(kafka, group_id, **(overrides or {})))
        self._stopping = threading.Event()
        self._catch_up = CatchUp()
        self._last_lag_check = 0.0
        self._start_positions = start_positions
        self.failed: BaseException | None = None

    @property
    def ready(self) -> bool:
        return self._catch_up.done and self.failed is None

    def stop(self) -> None:
        self._stopping.set()

    # ------------------------------------------------------------------ assignment

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._start_positions is not None:
            self._start_positions(partitions)
            consumer.assign(partitions)
        self._catch_up.assigned(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._catch_up.revoked(partitions)

    @staticmethod
    def _housekeeping(step: Callable[[], object]) -> None:
        """Readiness and lag bookkeeping asks the broker for offsets; while the broker is away
        that fails, and must not stop the loop: try again on the next poll."""
        try:
            step()
        except KafkaException as exc:
            log.warning("offset bookkeeping failed; will retry", extra={"error": str(exc)})

    def _report_lag(self) -> None:
        """Every 5 s: lag per partition from the high watermarks the fetches bring back (cached
        in the client, so no broker round trip holds up the loop)."""
        now = time.monotonic()
        if now - self._last_lag_check < 5.0:
            return
        self._last_lag_check = now
        if not self._catch_up.done:
            log.info("catching up", extra={"group": self.group_id, **self._catch_up.describe()})
        for tp in self._consumer.position(self._consumer.assignment()):
            _, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                self._hooks.lag(tp.topic, tp.partition, max(0, high - tp.offset))

    # ------------------------------------------------------------------ processing

    def _handle(self, msg: Message) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                self._handler(msg)
                return
            except PERMANENT_ERRORS as exc:
                self._dead_letter(msg, exc, attempt)
                return
            except self._transient as exc:
                log.warning(
                    "transient failure, retrying", extra={"topic": msg.topic(), "error": str(exc)}
                )
                if self._stopping.wait(min(5.0, self._backoff * attempt)):
                    raise
            except Exception as exc:
                if attempt >= self._max_attempts:
                    self._dead_letter(msg, exc, attempt)
                    return
                log.warning(
                    "handler failed, will retry",
                    extra={"topic": msg.topic(), "attempt": attempt, "error": repr(exc)},
                )
                time.sleep(self._backoff * attempt)

    def _dead_letter(self, msg: Message, exc: BaseException, attempts: int) -> None:
        log.error(
            "message sent to DLQ",
            extra={
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "error": f"{type(exc).__name__}",
            },
        )
        while not self._stopping.is_set():
            try:
                dead_letter(
                    self._producer, msg, group_id=self.group_id, error=exc, attempts=attempts
                )
                self._hooks.dead_lettered(msg.topic() or "")
                return
            except DeliveryFailed:
                log.warning("DLQ unavailable, retrying", extra={"topic": msg.topic()})
                time.sleep(1.0)
        raise RuntimeError("stopped before the DLQ acknowledged a dead letter")

    def run(self) -> None:
        """Poll until stopped; commits stored offsets on the way out."""
        self._consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not self._stopping.is_set():
                msg = self._consumer.poll(0.2)
                if self._catch_up.unmeasured:
                    self._housekeeping(lambda: self._catch_up.measure(self._consumer))
                if msg is not None and not self._catch_up.observe(msg):
                    if msg.error():
                        log.warning("consumer error", extra={"error": str(msg.error())})
                    else:
                        self._handle(msg)
                        self._consumer.store_offsets(message=msg)
                        self._hooks.consumed(msg.topic() or "")
                self._housekeeping(lambda: self._catch_up.update(self._consumer))
                self._housekeeping(self._report_lag)
        except Exception as exc:
            self.failed = exc
            log.exception("consumer loop stopped by an error")
            raise
        finally:
            self._consumer.close()


class LoopWorker:
    """A background worker that is one ``ConsumerLoop`` (set ``self.loop``): its readiness,
    run and stop are the loop's."""

    loop: ConsumerLoop

    @property
    def ready(self) -> bool:
        return self.loop.ready

    def run(self) -> None:
        self.loop.run()

    def stop(self) -> None:
        self.loop.stop()
