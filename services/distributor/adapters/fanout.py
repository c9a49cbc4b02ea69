"""Push fan-out: one independent dispatcher per platform and push channel (webhook, Kafka).

Each dispatcher is its own thread with its own cursor, so a slow or failing platform never
delays another. It pages through the stable ``HashListView`` with the platform's signal
filter, in sequence order, delivers a batch, records it on ``haven.deliveries.v1`` (after the
broker acknowledged the delivery itself) and only then moves its cursor. Cursors are
recovered from ``haven.deliveries.v1`` at start (``adapters/deliveries.py``), so a SIGKILL
between delivering and recording re-sends that batch, with the same batch id and entry event
ids: at least once on the wire, exactly once in effect for a platform that drops duplicates.

- **Webhook**: a signed POST per batch (``domain/webhooks.py``). After the last attempt the batch,
  naming its entries by key and sequence, goes to ``haven.webhooks.dlq.v1`` (``WebhookBatchFailed``), a failed
  ``DeliveryRecorded`` is written, the DLQ counter rises (an alert fires on it) and the
  dispatcher moves on. We chose moving on over blocking: one batch a platform rejects (a 4xx)
  or a long outage must not freeze every later withdrawal; nothing is lost, because the DLQ
  holds the entries for replay and the platform's pull feed always has the latest state.
- **Kafka**: ``PlatformListEntry`` records on ``haven.platform.<id>.v1`` (keyed like the hash
  list, event id = uuid5(platform, sequence)), then a ``DeliveryRecorded``.

A platform added later starts from sequence 0 and so receives the full current list. A
disabled platform's dispatcher idles and resumes from its cursor when re-enabled.

Only one distributor instance should run fan-out at a time (``HAVEN_DISTRIBUTOR_FANOUT_ENABLED``),
as only one runs the transactional registry writer.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.bootstrap import ensure_topics
from schemas.events import (
    Channel,
    DeliveryOutcome,
    EntryRef,
    PlatformListEntry,
    PlatformSnapshot,
    WebhookBatchFailed,
)
from schemas.platform_keys import PlatformDirectory
from schemas.signals import SignalType
from schemas.topics import DELIVERIES, WEBHOOK_FAILURES, platform_topic
from services.common.catch_up import KafkaTopicReader
from services.common.kafka import EventProducer
from services.distributor.adapters.deliveries import (
    delivery_record,
    entry_event_id,
    read_delivery_cursors,
)
from services.distributor.adapters.webhook_sender import WebhookSender
from services.distributor.domain.platforms import in_grace
from services.distributor.domain.view import HashListView, ViewEntry
from services.distributor.domain.webhooks import RetryPolicy, webhook_secret
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings

log = logging.getLogger(__name__)
PUSH_CHANNELS = (Channel.WEBHOOK, Channel.KAFKA)


def platform_entries(platform_id: str, entries: list[ViewEntry]) -> list[PlatformListEntry]:
    return [
        PlatformListEntry(event_id=entry_event_id(platform_id, e.sequence), **e.fields())
        for e in entries
    ]


class Dispatcher:
    """Delivers one platform's filtered list over one push channel, batch after batch."""

    def __init__(
        self, *, platform_id: str, channel: Channel, cursor: int, fanout: FanOutWorker
    ) -> None:
        self.platform_id = platform_id
        self.channel = channel
        self.cursor = cursor
        self.fanout = fanout
        self._stopping = fanout.stopping
        self._sender: WebhookSender | None = None
        self._topic_ready = False

    def run(self) -> None:
        s = self.fanout.settings
        while not self._stopping.is_set():
            platform = self.fanout.directory.get(self.platform_id)
            if platform is None or not platform.enabled or self.channel not in platform.channels:
                self._stopping.wait(s.fanout_idle_s)
                continue
            signals = frozenset(platform.signals)
            page = self.fanout.view.page(
                after=self.cursor, signals=signals, limit=s.fanout_batch_size
            )
            if not page.entries:
                self.cursor = page.next_after
                self._update_backlog(signals)
                self._stopping.wait(s.fanout_idle_s)
                continue
            try:
                done = self._deliver(platform, page.entries)
            except Exception:
                log.exception(
                    "delivery failed; retrying the batch",
                    extra={"platform": self.platform_id, "channel": self.channel.value},
                )
                self._stopping.wait(1.0)
                continue
            if done:
                self.cursor = page.entries[-1].sequence
                self._update_backlog(signals)
        if self._sender is not None:
            self._sender.close()

    def _update_backlog(self, signals: frozenset[SignalType]) -> None:
        backlog = self.fanout.view.backlog(after=self.cursor, signals=signals)
        self.fanout.metrics.backlog.labels(self.platform_id, self.channel.value).set(backlog)

    def _deliver(self, platform: PlatformSnapshot, entries: list[ViewEntry]) -> bool:
        if self.channel is Channel.KAFKA:
            return self._deliver_kafka(entries)
        return self._deliver_webhook(platform, entries)

    def _record(
        self, entries: list[ViewEntry], outcome: DeliveryOutcome, attempts: int = 1
    ) -> None:
        record = delivery_record(self.platform_id, self.channel, entries, outcome, attempts)
        self.fanout.producer.send(self.fanout.settings.topic(DELIVERIES), self.platform_id, record)
        labels = (self.platform_id, self.channel.value)
        if outcome is DeliveryOutcome.DELIVERED:
            self.fanout.metrics.deliveries.labels(*labels).inc()
            self.fanout.metrics.delivered_entries.labels(*labels).inc(len(entries))
        else:
            self.fanout.metrics.delivery_failures.labels(*labels).inc()

    def _deliver_kafka(self, entries: list[ViewEntry]) -> bool:
        s = self.fanout.settings
        spec = platform_topic(self.platform_id)
        if not self._topic_ready:
            ensure_topics(s.kafka, (spec,), namespace=s.kafka_namespace)
            self._topic_ready = True
        topic = s.topic(spec)
        futures = [
            self.fanout.producer.produce(topic, f"{e.signal.value}:{e.value}", e)
            for e in platform_entries(self.platform_id, entries)
        ]
        for future in futures:
            future.result(timeout=60)
        self._record(entries, DeliveryOutcome.DELIVERED)
        return True

    def _deliver_webhook(self, platform: PlatformSnapshot, entries: list[ViewEntry]) -> bool:
        s = self.fanout.settings
        if self._sender is None:
            policy = RetryPolicy(
                s.webhook_max_attempts, s.webhook_backoff_base_s, s.webhook_backoff_max_s
            )
            self._sender = WebhookSender(
                platform_id=self.platform_id,
                policy=policy,
                timeout_s=s.webhook_timeout_s,
                metrics=self.fanout.metrics,
                stopping=self._stopping,
                allow_loopback=s.webhook_allow_loopback,
            )
        record = delivery_record(self.platform_id, self.channel, entries, DeliveryOutcome.DELIVERED)
        listed = platform_entries(self.platform_id, entries)
        batch: dict[str, Any] = {
            "platform_id": self.platform_id,
            "batch_id": record.batch_id,
            "first_sequence": record.first_sequence,
            "last_sequence": record.last_sequence,
        }
        entries_json = [e.model_dump(mode="json") for e in listed]
        body = json.dumps({**batch, "entries": entries_json}, separators=(",", ":")).encode()
        outcome = self._sender.send(
            platform.webhook_url or "", body, self._secrets(platform), record.batch_id
        )
        if outcome.interrupted:
            return False
        if outcome.delivered:
            self._record(entries, DeliveryOutcome.DELIVERED, outcome.attempts)
            return True
        log.error(
            "webhook batch failed after its last attempt; sent to the webhook DLQ",
            extra={
                "platform": self.platform_id,
                "attempts": outcome.attempts,
                "error": outcome.error[:300],
            },
        )
        failed = WebhookBatchFailed(
            event_id=record.event_id,
            **batch,
            entries=[EntryRef(key=e.key, sequence=e.sequence) for e in entries],
            attempts=outcome.attempts,
            last_error=outcome.error[:2000],
        )
        self.fanout.producer.send(s.topic(WEBHOOK_FAILURES), self.platform_id, failed)
        self.fanout.metrics.webhook_dead_lettered.labels(self.platform_id).inc()
        self._record(entries, DeliveryOutcome.FAILED, outcome.attempts)
        return True

    def _secrets(self, platform: PlatformSnapshot) -> list[str]:
        seed = self.fanout.settings.webhook_key_seed.get_secret_value().encode()
        version = platform.webhook_secret_version
        secrets = [webhook_secret(seed, self.platform_id, version)]
        if version > 1 and in_grace(platform, datetime.now(UTC)):
            secrets.append(webhook_secret(seed, self.platform_id, version - 1))
        return secrets


class FanOutWorker:
    """Starts a dispatcher for every platform × push channel the registry asks for."""

    def __init__(
        self,
        *,
        settings: DistributorSettings,
        view: HashListView,
        directory: PlatformDirectory,
        producer: EventProducer,
        metrics: DistributorMetrics,
        view_ready: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.view = view
        self.directory = directory
        self.producer = producer
        self.metrics = metrics
        self.stopping = threading.Event()
        self.ready = not settings.fanout_enabled
        self.dispatchers: dict[tuple[str, Channel], Dispatcher] = {}
        self._threads: list[threading.Thread] = []
        self._view_ready = view_ready

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(15)

    def cursor(self, platform_id: str, channel: Channel) -> int | None:
        dispatcher = self.dispatchers.get((platform_id, channel))
        return dispatcher.cursor if dispatcher is not None else None

    def run(self) -> None:
        if not self.settings.fanout_enabled:
            return
        s = self.settings
        cursors: dict[tuple[str, Channel], int] | None = None
        while cursors is None and not self.stopping.is_set():
            try:
                cursors = read_delivery_cursors(KafkaTopicReader(s.kafka), s.topic(DELIVERIES))
            except Exception:
                log.exception("could not read delivery cursors; retrying")
                self.stopping.wait(1.0)
        self.ready = True
        while not self.stopping.is_set() and cursors is not None:
            # Until the view is caught up, "the end of the list" is not known yet.
            if self._view_ready():
                for platform in self.directory.all():
                    for channel in PUSH_CHANNELS:
                        key = (platform.platform_id, channel)
                        if channel in platform.channels and key not in self.dispatchers:
                            self._start(key, cursors.get(key, 0))
            self.stopping.wait(self.settings.fanout_idle_s)

    def _start(self, key: tuple[str, Channel], cursor: int) -> None:
        dispatcher = Dispatcher(platform_id=key[0], channel=key[1], cursor=cursor, fanout=self)
        self.dispatchers[key] = dispatcher
        thread = threading.Thread(
            target=dispatcher.run, name=f"dispatch-{key[0]}-{key[1].value}", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        log.info(
            "dispatcher started",
            extra={"platform": key[0], "channel": key[1].value, "cursor": cursor},
        )
