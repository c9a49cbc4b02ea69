"""The consumer loop every service uses: at-least-once, with retries and a dead-letter queue.

The offset of a message is stored only after its handler succeeded (``enable.auto.offset.store``
is off), so a crash redelivers rather than loses; handlers are idempotent on ``event_id`` or a
natural key. A message that keeps failing goes to ``<topic>.dlq`` with the error in its headers
and the loop carries on; a message that cannot even be parsed goes there at once. Errors of the
infrastructure (a broker or Redis away) are retried until it comes back: sending those to the
DLQ would turn an outage into lost work.

``ready`` turns true once the consumer is assigned and has caught up with the high watermarks
it saw at assignment, which is what ``/readyz`` reports.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaException, Message, TopicPartition
from pydantic import ValidationError

from schemas.events import DeadLettered
from services.common.kafka import DeliveryFailed, EventProducer, Headers

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


def consumer_config(bootstrap: str, group_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "max.poll.interval.ms": 300_000,
        "topic.metadata.refresh.interval.ms": 5_000,
    }
    config.update(overrides)
    return config


@dataclass
class ConsumerHooks:
    """Optional callbacks for metrics; each receives the topic name."""

    consumed: Callable[[str], None] = lambda topic: None
    dead_lettered: Callable[[str], None] = lambda topic: None
    lag: Callable[[str, int, int], None] = lambda topic, partition, lag: None


@dataclass
class CatchUp:
    """Tracks whether the assigned partitions have been read up to their initial end."""

    targets: dict[tuple[str, int], int] = field(default_factory=dict)
    pending: set[tuple[str, int]] = field(default_factory=set)
    assigned: bool = False
    unmeasured: list[TopicPartition] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.assigned and not self.pending and not self.unmeasured


def deadletters_topic(source_topic: str) -> str:
    """``haven.deadletters.v1`` in the namespace of ``source_topic`` (``<ns>.haven.x.v1``)."""
    namespace, _, _ = source_topic.partition("haven.")
    return f"{namespace}haven.deadletters.v1"


def dead_letter_record(
    msg: Message, *, group_id: str, error: BaseException | str
) -> tuple[str, bytes, bytes]:
    """(topic, key, value) of the ``DeadLettered`` record announcing that ``msg`` was
    dead-lettered: where it came from and why, never its payload."""
    source = msg.topic() or ""
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    event = DeadLettered(
        source_topic=source,
        source_partition=msg.partition() or 0,
        source_offset=msg.offset() or 0,
        consumer_group=group_id,
        error=reason[:500],
    )
    return deadletters_topic(source), source.encode(), event.model_dump_json().encode()


def dead_letter(
    producer: EventProducer, msg: Message, *, group_id: str, error: BaseException, attempts: int
) -> None:
    """Send ``msg`` unchanged to ``<topic>.dlq`` with why it failed, and a ``DeadLettered``
    record to ``haven.deadletters.v1``; blocks until both are acknowledged."""
    original = msg.headers() or []
    headers: Headers = list(original.items()) if isinstance(original, dict) else list(original)
    headers += [
        ("haven.dlq.error", f"{type(error).__name__}: {error}"[:2000].encode()),
        ("haven.dlq.source", f"{msg.topic()}/{msg.partition()}/{msg.offset()}".encode()),
        ("haven.dlq.group", group_id.encode()),
        ("haven.dlq.attempts", str(attempts).encode()),
    ]
    producer.send(f"{msg.topic()}.dlq", msg.key(), msg.value(), headers=headers)
    producer.send(*dead_letter_record(msg, group_id=group_id, error=error))


class ConsumerLoop:
    """Consume ``topics`` with ``handler`` until ``stop()``; run it in its own thread."""

    def __init__(
        self,
        *,
        bootstrap: str,
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
        ignored for where to start and for deciding readiness."""
        self.group_id = group_id
        self.topics = topics
        self._handler = handler
        self._producer = producer
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_s
        self._transient = TRANSIENT_ERRORS + transient_errors
        self._hooks = hooks or ConsumerHooks()
        self._consumer = Consumer(consumer_config(bootstrap, group_id, **(overrides or {})))
        self._stopping = threading.Event()
        self._catch_up = CatchUp()
        self._last_lag_check = 0.0
        self._start_positions = start_positions
        self._starts: dict[tuple[str, int], int] = {}
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
            self._starts.update({(tp.topic, tp.partition): tp.offset for tp in partitions})
            consumer.assign(partitions)
        self._catch_up.assigned = True
        self._catch_up.unmeasured.extend(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._catch_up.pending.discard((tp.topic, tp.partition))

    def _measure_targets(self) -> None:
        catch_up = self._catch_up
        while catch_up.unmeasured:
            tp = catch_up.unmeasured.pop()
            low, high = self._consumer.get_watermark_offsets(tp, timeout=10)
            if high > low:
                catch_up.targets[(tp.topic, tp.partition)] = high
                catch_up.pending.add((tp.topic, tp.partition))

    def _check_caught_up(self, *, ask_group: bool) -> None:
        catch_up = self._catch_up
        if not catch_up.pending:
            return
        tps = [TopicPartition(t, p) for t, p in catch_up.pending]
        for tp in self._consumer.position(tps):
            key = (tp.topic, tp.partition)
            if tp.offset != OFFSET_INVALID and tp.offset >= catch_up.targets[key]:
                catch_up.pending.discard(key)
        if catch_up.pending and ask_group:
            # Never fetched (committed offset already at the end): ask the group.
            if self._start_positions is not None:
                known = [
                    TopicPartition(t, p, self._starts.get((t, p), OFFSET_INVALID))
                    for t, p in catch_up.pending
                ]
            else:
                known = self._consumer.committed(tps, timeout=10)
            for tp in known:
                key = (tp.topic, tp.partition)
                if tp.offset != OFFSET_INVALID and tp.offset >= catch_up.targets[key]:
                    catch_up.pending.discard(key)

    @staticmethod
    def _housekeeping(step: Callable[[], None]) -> None:
        """Readiness and lag bookkeeping asks the broker for offsets; while the broker is away
        that fails, and must not stop the loop: try again on the next poll."""
        try:
            step()
        except KafkaException as exc:
            log.warning("offset bookkeeping failed; will retry", extra={"error": str(exc)})

    def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag_check < 5.0:
            return
        self._last_lag_check = now
        assignment = self._consumer.assignment()
        for tp in self._consumer.position(assignment):
            _, high = self._consumer.get_watermark_offsets(tp, timeout=5, cached=False)
            if tp.offset >= 0:
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
                    self._housekeeping(self._measure_targets)
                if msg is None:
                    self._housekeeping(lambda: self._check_caught_up(ask_group=True))
                    self._housekeeping(self._report_lag)
                    continue
                if msg.error():
                    log.warning("consumer error", extra={"error": str(msg.error())})
                    continue
                self._handle(msg)
                self._consumer.store_offsets(message=msg)
                self._hooks.consumed(msg.topic() or "")
                if self._catch_up.pending:
                    self._housekeeping(lambda: self._check_caught_up(ask_group=False))
        except Exception as exc:
            self.failed = exc
            log.exception("consumer loop stopped by an error")
            raise
        finally:
            self._consumer.close()
