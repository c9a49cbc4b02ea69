"""The Kafka producer every service uses: idempotent, ``acks=all``, delivery errors surfaced.

``send`` returns only after the broker acknowledged the event (or raises), so an HTTP handler
can answer 2xx knowing the event is durable. A background thread serves delivery callbacks;
``close`` flushes what is in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from pydantic import BaseModel

DeliveryHook = Callable[[str], None]
Headers = list[tuple[str, str | bytes | None]]


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge an event; the caller must not report success."""


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "delivery.timeout.ms": 30_000,
        "request.timeout.ms": 10_000,
        "compression.type": "lz4",
    }
    config.update(overrides)
    return config


class EventProducer:
    """A thread-safe producer whose sends complete when the broker has acknowledged them."""

    def __init__(
        self, bootstrap: str, *, on_delivered: DeliveryHook | None = None, **overrides: Any
    ) -> None:
        self._producer = Producer(producer_config(bootstrap, **overrides))
        self._on_delivered = on_delivered
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.1)

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
            if err is not None:
                future.set_exception(DeliveryFailed(f"{topic}: {err.str()}"))
            else:
                if self._on_delivered is not None:
                    self._on_delivered(topic)
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

    def send(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        timeout: float = 30.0,
        headers: Headers | None = None,
    ) -> Message:
        """Produce and block until acknowledged (for worker threads)."""
        return self.produce(topic, key, value, headers=headers).result(timeout=timeout)

    async def send_async(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        timeout: float = 30.0,
    ) -> Message:
        """Produce and await the acknowledgement (for request handlers)."""
        future = self.produce(topic, key, value)
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    def close(self, timeout: float = 10.0) -> int:
        """Flush what is in flight and stop the poller; returns messages still unsent."""
        self._closing.set()
        self._poller.join(timeout=1.0)
        return int(self._producer.flush(timeout))
