"""What the audit service records and when it signs: pure rules, no Kafka or HTTP.

- Which topics are audited: every ``haven.*`` topic of the deployment's namespace, except
  the ``<topic>.dlq`` payload topics (a dead-lettered payload is already on the log under its
  source topic, or was unreadable; the ``DeadLettered`` record on ``haven.deadletters.v1``
  says that it went there, and *is* audited) and except ``haven.audit.checkpoints.v1``: the
  log's own checkpoints are derived from the log, so appending them would make every
  checkpoint produce an entry that needs another checkpoint — a loop that never settles.
- How one Kafka message becomes one ``Entry``. A value that is not JSON is still recorded
  (something was written to a Haven topic), as ``{"unparseable_value": {"bytes": n,
  "sha256": hex}}``: its size and digest, never the raw bytes. A key that is not UTF-8 is
  decoded with U+FFFD replacements. A tombstone (no value) is recorded with event ``null``.
  Message headers are not part of an entry.
- When to sign a checkpoint: after ``every_entries`` unsigned entries, or once entries have
  waited ``interval_s`` unsigned (the worker measures from when the latest checkpoint last
  covered everything, so an idle log is not re-signed and a new entry waits at most that).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from schemas.topics import CHECKPOINTS
from services.audit.log.entry import Entry

DLQ_SUFFIX = ".dlq"
CHECKPOINTS_TOPIC = CHECKPOINTS.name
# Checkpoint events get ids derived from (origin, size): a re-publication after a crash
# carries the same id, so consumers see a redelivery, not a second checkpoint.
CHECKPOINT_ID_NAMESPACE = uuid.UUID("6f2b3c1e-6a39-5c55-9d4e-61756469740a")


@dataclass(frozen=True)
class SourceMessage:
    """One consumed Kafka message, stripped of the client library's types."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None


def audited_prefix(namespace: str) -> str:
    return f"{namespace}.haven." if namespace else "haven."


def is_audited(topic: str, namespace: str) -> bool:
    """True for the topics whose every message gets an entry (see the module docstring)."""
    prefix = audited_prefix(namespace)
    if not topic.startswith(prefix) or topic.endswith(DLQ_SUFFIX):
        return False
    return topic != prefix.removesuffix("haven.") + CHECKPOINTS_TOPIC


def _event_of(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {
            "unparseable_value": {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
        }


def entry_of(source: SourceMessage, *, appended_at_ms: int) -> Entry:
    """The audit entry for one source message."""
    return Entry(
        topic=source.topic,
        partition=source.partition,
        offset=source.offset,
        key=source.key.decode("utf-8", errors="replace") if source.key is not None else None,
        event=_event_of(source.value),
        kafka_timestamp_ms=source.timestamp_ms,
        appended_at_ms=appended_at_ms,
    )


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign after ``every_entries`` new entries or ``interval_s`` seconds, whichever first."""

    every_entries: int
    interval_s: float

    def due(self, *, size: int, signed_size: int, seconds_since_signed: float) -> bool:
        pending = size - signed_size
        if pending <= 0:
            return False
        return pending >= self.every_entries or seconds_since_signed >= self.interval_s


def checkpoint_event_id(origin: str, size: int) -> uuid.UUID:
    return uuid.uuid5(CHECKPOINT_ID_NAMESPACE, f"{origin}\n{size}")
