"""The Kafka producer every service uses: idempotent, ``acks=all``, delivery errors surfaced.

``send`` returns only after the broker acknowledged the event (or raises), so an HTTP handler
can answer 2xx knowing the event is durable. A background thread serves delivery callbacks;
``close`` flushes what is in flight.

Self-healing: after a broker crash an idempotent librdkafka producer can end up unable to send
again (a fatal idempotence error, or stuck on stale leader metadata until every message times
out). When librdkafka reports a delivery timeout or a fatal error (a caller that merely stopped
waiting does not count), the producer is replaced by a fresh one (new producer id, fresh metadata); the old one is still polled until its last
callbacks have fired. Messages whose delivery failed were reported as failed to their callers,
who retry; so the worst case is a duplicate, which consumers dedupe on ``event_id``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from pydantic import BaseModel

from schemas.security import KafkaAccess
from schemas.topics import PRODUCER_MAX_BYTES

log = logging.getLogger(__name__)

DeliveryHook = Callable[[str], None]
# Delivery errors after which the producer instance is not trusted to recover by itself.
_REPLACE_ON = {
    KafkaError._MSG_TIMED_OUT,
    KafkaError._FATAL,
    KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
}
Headers = list[tuple[str, str | bytes | None]]


class Acknowledged(Protocol):
    """Where an acknowledged message landed (a confluent ``Message`` is one)."""

    def topic(self) -> str | None: ...

    def partition(self) -> int | None: ...

    def offset(self) -> int | None: ...


class Publisher(Protocol):
    """What services send events through: ``EventProducer`` against Kafka, an in-memory fake
    in unit tests (``tests/support/fakes.py``); both pass ``tests/contract/publisher.py``.

    An implementation provides ``produce``; ``send`` and ``send_async`` wait on it, the same
    way for both (they subclass this Protocol to inherit them). Every send completes only once
    the message is durable (or raises ``DeliveryFailed``); messages with one key keep their
    order.
    """

    def produce(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        headers: Headers | None = None,
    ) -> concurrent.futures.Future[Any]:  # resolves to an ``Acknowledged``
        """Queue a message; the future resolves with where it landed, or fails."""
        ...

    def send(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        timeout: float = 30.0,
        headers: Headers | None = None,
    ) -> Acknowledged:
        """Produce and block until acknowledged (for worker threads)."""
        acknowledged: Acknowledged = self.produce(topic, key, value, headers=headers).result(
            timeout=timeout
        )
        return acknowledged

    async def send_async(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        timeout: float = 30.0,
    ) -> Acknowledged:
        """Produce and await the acknowledgement (for request handlers)."""
        future = self.produce(topic, key, value)
        acknowledged: Acknowledged = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        return acknowledged


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge an event; the caller must not report success."""


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def producer_config(kafka: KafkaAccess, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = kafka.config() | {
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "delivery.timeout.ms": 30_000,
        "request.timeout.ms": 10_000,
        "compression.type": "lz4",
        "message.max.bytes": PRODUCER_MAX_BYTES,
    }
    config.update(overrides)
    return config


def consumer_config(kafka: KafkaAccess, group_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = kafka.config() | {
        "group.id": group_id,
        "enable.auto.commit": True,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "max.poll.interval.ms": 300_000,
        "topic.metadata.refresh.interval.ms": 5_000,
        # End-of-partition events: how services.common.catch_up knows a read reached the end.
        "enable.partition.eof": True,
    }
    config.update(overrides)
    return config


class EventProducer(Publisher):
    """A thread-safe producer whose sends complete when the broker has acknowledged them."""

    def __init__(
        self, kafka: KafkaAccess, *, on_delivered: DeliveryHook | None = None, **overrides: Any
    ) -> None:
        self._config = producer_config(kafka, **overrides)
        self._config["error_cb"] = self._on_error
        self._producer = Producer(self._config)
        self._retired: list[tuple[Producer, float]] = []
        self._replace_wanted = threading.Event()
        self._on_delivered = on_delivered
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-producer", daemon=True)
        self._poller.start()

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            log.error("fatal producer error; replacing the producer", extra={"error": err.str()})
            self._replace_wanted.set()

    def _replace(self) -> None:
        """Swap in a fresh producer; keep polling the old one until its callbacks have fired."""
        self._replace_wanted.clear()
        old, self._producer = self._producer, Producer(self._config)
        self._retired.append((old, time.monotonic() + 60.0))
        log.warning("Kafka producer replaced after a delivery timeout or fatal error")

    def _poll(self) -> None:
        while not self._closing.is_set():
            try:
                self._poll_once()
            except Exception:
                # A callback must never take the poller down: without it no send completes.
                log.exception("producer poll failed; carrying on")

    def _poll_once(self) -> None:
        if self._replace_wanted.is_set():
            self._replace()
        self._producer.poll(0.1)
        for retired in list(self._retired):
            old, deadline = retired
            old.poll(0)
            if len(old) == 0 or time.monotonic() > deadline:
                self._retired.remove(retired)

    def produce(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        headers: Headers | None = None,
    ) -> concurrent.futures.Future[Message]:
        """Queue a message; the future resolves with the acknowledged message or fails."""
        future: concurrent.futures.Future[Message] = concurrent.futures.Future()
        payload = encode(value) if isinstance(value, BaseModel) else value

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None and (err.code() in _REPLACE_ON or err.fatal()):
                self._replace_wanted.set()
            if err is None and self._on_delivered is not None:
                self._on_delivered(topic)
            if future.done():  # the caller gave up waiting (its await was cancelled)
                return
            if err is not None:
                future.set_exception(DeliveryFailed(f"{topic}: {err.str()}"))
            else:
                future.set_result(msg)

        while True:
            try:
                self._producer.produce(
                    topic, value=payload, key=key, headers=headers, on_delivery=delivered
                )
                break
            except BufferError:
                # Local queue full: let the poller drain it, then try again.
                self._producer.poll(0.05)
            except KafkaException as exc:
                future.set_exception(DeliveryFailed(f"{topic}: {exc}"))
                break
        return future

    def close(self, timeout: float = 10.0) -> int:
        """Flush what is in flight and stop the poller; returns messages still unsent."""
        self._closing.set()
        self._poller.join(timeout=1.0)
        return int(self._producer.flush(timeout))
