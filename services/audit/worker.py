"""Appends every message of every ``haven.*`` topic to the audit log.

Walking-skeleton storage: one JSON line per source message, fsync'd before the consumer
offset is stored (at least once).
"""

from __future__ import annotations

import json
import os
import threading
import time

from confluent_kafka import Message

from services.audit.domain import SourceMessage, entry_fields
from services.audit.metrics import AuditMetrics
from services.audit.settings import AuditSettings
from services.common.consumer import ConsumerLoop
from services.common.kafka import EventProducer


def source_of(msg: Message) -> SourceMessage:
    raw_headers = msg.headers() or []
    pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
    headers = {
        name: value if isinstance(value, bytes) else str(value or "").encode()
        for name, value in pairs
    }
    return SourceMessage(
        topic=msg.topic() or "",
        partition=msg.partition() or 0,
        offset=msg.offset() or 0,
        key=msg.key() if isinstance(msg.key(), bytes | None) else str(msg.key()).encode(),
        value=msg.value(),
        timestamp_ms=msg.timestamp()[1],
        headers=headers,
    )


class AuditWorker:
    def __init__(
        self, settings: AuditSettings, metrics: AuditMetrics, producer: EventProducer
    ) -> None:
        self._dir = settings.resolved_log_dir
        self._dir.mkdir(parents=True, exist_ok=True)
        self._path = self._dir / "entries.jsonl"
        self._lock = threading.Lock()
        self._metrics = metrics
        self.loop = ConsumerLoop(
            bootstrap=settings.kafka_bootstrap,
            group_id=settings.group("log"),
            topics=[settings.topic_pattern],
            handler=self._append,
            producer=producer,
            hooks=metrics.common.consumer_hooks(),
        )

    def _append(self, msg: Message) -> None:
        fields = entry_fields(source_of(msg))
        fields["appended_at_ms"] = int(time.time() * 1000)
        line = json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"
        with self._lock, self._path.open("a") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self._metrics.entries.inc()

    @property
    def ready(self) -> bool:
        return self.loop.ready

    def run(self) -> None:
        self.loop.run()

    def stop(self) -> None:
        self.loop.stop()
