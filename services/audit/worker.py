"""The audit log's single writer: consume, append in batches, sign and publish checkpoints.

Exactly one entry per source message. Each batch of consumed messages is appended together
with the Kafka positions it advances to, in one write and one fsync (``AuditLog.append``);
on start the consumer is positioned from those stored positions (see ``adapters.source``),
so a crash at any instant neither loses nor repeats an entry. Batching many messages per
fsync is what makes the log keep up (see ``bench/audit.py``).

One writer per log. The log directory is ``flock``-ed by whoever opens it, so a second
instance on the same volume fails at start-up with ``LogLockedError`` (and, restarted by its
orchestrator, takes over once the first is gone). Running more instances on separate volumes
would make several independent logs, each complete and each signed with the same key: don't
— run one instance (``replicas: 1``) and let the restart policy handle crashes. Reads (proofs,
checkpoints) are cheap and served by that instance.

Checkpoints: signed every ``checkpoint_every_entries`` entries or ``checkpoint_interval_s``
seconds, at start-up if entries follow the last one (a crash between an append and its
checkpoint), and at shutdown. The latest is published to ``haven.audit.checkpoints.v1``
(key: origin) with an event id derived from (origin, size), so a re-publication after a
crash is recognisable as the same checkpoint; a failed publication is retried.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import Counter as Tally
from concurrent.futures import Future
from pathlib import Path

from confluent_kafka import Message

from schemas.events import CheckpointSigned
from services.audit.adapters.source import KafkaSource
from services.audit.domain import (
    CHECKPOINTS_TOPIC,
    CheckpointPolicy,
    SourceMessage,
    checkpoint_event_id,
    entry_of,
)
from services.audit.log.checkpoint import Checkpoint, open_checkpoint
from services.audit.log.entry import Entry
from services.audit.log.keys import keygen, load_signer
from services.audit.log.note import Signer
from services.audit.log.storage import TopicPartition
from services.audit.log.tlog import AuditLog
from services.audit.metrics import AuditMetrics
from services.audit.settings import AuditSettings
from services.common.kafka import EventProducer
from services.common.settings import Environment

log = logging.getLogger(__name__)


def load_log_signer(settings: AuditSettings) -> Signer:
    """The configured signer; in development only, a generated key kept in the data dir."""
    path = settings.resolved_signing_key_file
    development = settings.env is Environment.DEVELOPMENT
    if settings.signing_key_file is None and development and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keygen(name=settings.origin or "haven.dev/audit", path=path)
        log.warning("generated a development audit signing key", extra={"path": str(path)})
    signer = load_signer(path)
    if settings.origin is not None and settings.origin != signer.name:
        raise ValueError(
            f"signing key is named {signer.name!r} but origin is {settings.origin!r}; "
            "the key name is the log origin"
        )
    return signer


def open_log(directory: Path, signer: Signer) -> AuditLog:
    audit_log = AuditLog(directory, signer=signer)
    for repair in audit_log.repairs:
        log.warning("audit log repaired at open", extra={"repair": repair})
    return audit_log


def fresh_entries(entries: list[Entry], stored: dict[TopicPartition, int]) -> list[Entry]:
    """The entries ``AuditLog.append`` will add (it skips those below stored positions)."""
    return [e for e in entries if e.offset >= stored.get(TopicPartition(e.topic, e.partition), 0)]


class AuditWorker:
    """Owns the open ``AuditLog``; ``run`` in a thread, ``stop`` to finish and close it."""

    def __init__(
        self, settings: AuditSettings, metrics: AuditMetrics, producer: EventProducer
    ) -> None:
        signer = load_log_signer(settings)
        self.verifier = signer.verifier
        self.log = open_log(settings.resolved_log_dir, signer)
        self._settings = settings
        self._metrics = metrics
        self._producer = producer
        self._policy = CheckpointPolicy(
            settings.checkpoint_every_entries, settings.checkpoint_interval_s
        )
        self._topic = settings.topic(CHECKPOINTS_TOPIC)
        self._stopping = threading.Event()
        self._signed_at = time.monotonic()
        latest = self._latest()
        self._signed_size = latest.size if latest is not None else -1
        self._published_size = -1
        self._publishing: Future[Message] | None = None
        self._source: KafkaSource | None = None
        self.failed: BaseException | None = None
        metrics.tree_size.set_function(lambda: self.log.size)
        metrics.seconds_since_checkpoint.set_function(lambda: time.monotonic() - self._signed_at)

    @property
    def ready(self) -> bool:
        return self._source is not None and self._source.caught_up and self.failed is None

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        settings = self._settings
        try:
            self._sign(force=True)
            self._source = source = KafkaSource(
                kafka=settings.kafka,
                group_id=settings.group("log"),
                namespace=settings.kafka_namespace,
                discovery_interval_s=settings.topic_discovery_interval_s,
            )
            try:
                source.discover(self.log.positions(), force=True)
                while not self._stopping.is_set():
                    source.discover(self.log.positions())
                    batch = source.poll(settings.batch_max_messages, timeout=0.2)
                    self._append(source, batch)
                    source.track()
                    self._sign()
                    self._publish()
                self._sign(force=True)
                self._publish()
            finally:
                source.close()
        except Exception as exc:
            self.failed = exc
            log.exception("audit worker stopped by an error")
            raise
        finally:
            self.log.close()

    def _latest(self) -> Checkpoint | None:
        note = self.log.latest_checkpoint()
        if note is None:
            return None
        return open_checkpoint(note, [self.verifier], origin=self.log.origin).checkpoint

    def _append(self, source: KafkaSource, batch: list[SourceMessage]) -> None:
        consumed = source.positions()
        stored = self.log.positions()
        advanced = {tp: n for tp, n in consumed.items() if n > stored.get(tp, 0)}
        if not batch and not advanced:
            return
        now_ms = int(time.time() * 1000)
        entries = [entry_of(message, appended_at_ms=now_ms) for message in batch]
        started = time.perf_counter()
        added = self.log.append(entries, advanced)
        self._metrics.append_latency.observe(time.perf_counter() - started)
        self._metrics.append_batch_entries.observe(len(added))
        for topic, count in Tally(e.topic for e in fresh_entries(entries, stored)).items():
            self._metrics.entries.labels(topic).inc(count)
        source.commit(advanced)

    def _sign(self, *, force: bool = False) -> None:
        size = self.log.size
        elapsed = time.monotonic() - self._signed_at
        due = self._policy.due(
            size=size, signed_size=self._signed_size, seconds_since_signed=elapsed
        )
        if size == self._signed_size:
            self._fresh()
            return
        if not (due or force):
            return
        self.log.sign_checkpoint()
        self._signed_size = size
        self._fresh()
        self._metrics.checkpoints.inc()

    def _fresh(self) -> None:
        """The latest checkpoint covers every entry as of now."""
        self._signed_at = time.monotonic()
        self._metrics.last_checkpoint_timestamp.set(time.time())

    def _publish(self) -> None:
        """Publish the latest checkpoint unless it already was (or one is in flight)."""
        if self._publishing is not None:
            if not self._publishing.done():
                return
            if self._publishing.exception() is not None:
                log.warning("checkpoint publication failed; will retry")
                self._published_size = -1
            self._publishing = None
        if self._published_size == self._signed_size:
            return
        note = self.log.latest_checkpoint()
        checkpoint = self._latest()
        if note is None or checkpoint is None:
            return
        event = CheckpointSigned(
            event_id=checkpoint_event_id(checkpoint.origin, checkpoint.size),
            origin=checkpoint.origin,
            tree_size=checkpoint.size,
            root_hash=base64.b64encode(checkpoint.root_hash).decode(),
            note=note.decode(),
        )
        self._publishing = self._producer.produce(self._topic, checkpoint.origin, event)
        self._published_size = checkpoint.size
