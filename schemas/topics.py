"""The topic registry: every Haven topic, its key, partitions, cleanup policy and event types.

Topic names are part of the contract. A deployment may set a *namespace* (``HAVEN_KAFKA_NAMESPACE``)
that prefixes every name, e.g. ``t42.haven.submissions.v1``; production leaves it empty. The
test suite uses one namespace per run so its assertions never see another run's events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from schemas.events import (
    ActionReported,
    CaseOpened,
    CaseSnapshot,
    CaseWithdrawn,
    CheckpointSigned,
    DeadLettered,
    DeliveryRecorded,
    HashListEntry,
    MatchFound,
    MediaAdded,
    PlatformListEntry,
    PlatformSnapshot,
    WebhookBatchFailed,
)

DAY_MS = 24 * 3600 * 1000
# Every size Haven accepts fits every hop it travels. The largest record is a case: its
# snapshot (haven.cases.v1) holds every item, and intake caps a case at MAX_CASE_FRAMES video
# frames (~110 bytes of JSON each, under 4 MB in all), so the two case topics take 8 MiB;
# everything else is bounded below Kafka's usual 1 MiB (a hash-list entry is one video, at
# most 7,200 frames; pages and webhook batches are cut by bytes). Producers may send up to
# PRODUCER_MAX_BYTES (services.common.kafka), above every topic's limit.
DEFAULT_MESSAGE_BYTES = 1024 * 1024
CASE_MESSAGE_BYTES = 8 * 1024 * 1024
PRODUCER_MAX_BYTES = CASE_MESSAGE_BYTES + 64 * 1024
FOREVER = -1
DLQ_SUFFIX = ".dlq"
_PLATFORM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class TopicSpec:
    """One topic of the contract."""

    name: str
    key: str
    writer: str
    events: tuple[type[BaseModel], ...]
    partitions: int = 3
    compacted: bool = False
    retention_ms: int = FOREVER
    max_message_bytes: int = DEFAULT_MESSAGE_BYTES

    @property
    def config(self) -> dict[str, str]:
        """Topic-level Kafka configuration to create it with."""
        config = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
            "min.insync.replicas": "1",
            "max.message.bytes": str(self.max_message_bytes),
        }
        if self.compacted:
            # Keep tombstones/history long enough for any consumer that rebuilds state.
            config["min.compaction.lag.ms"] = str(DAY_MS)
        return config

    def adapter(self) -> TypeAdapter[Any]:
        """A parser for any event this topic carries."""
        if len(self.events) == 1:
            return TypeAdapter(self.events[0])
        union: Any = self.events[0]
        for event in self.events[1:]:
            union = union | event
        return TypeAdapter(Annotated[union, Field(discriminator="type")])


SUBMISSIONS = TopicSpec(
    "haven.submissions.v1",
    "case id",
    "intake",
    (CaseOpened, MediaAdded, CaseWithdrawn),
    max_message_bytes=CASE_MESSAGE_BYTES,
)
CASES = TopicSpec(
    "haven.cases.v1",
    "case id",
    "intake",
    (CaseSnapshot,),
    compacted=True,
    max_message_bytes=CASE_MESSAGE_BYTES,
)
HASHLIST = TopicSpec(
    "haven.hashlist.v1", "<signal>:<value>", "distributor", (HashListEntry,), compacted=True
)
PLATFORMS = TopicSpec(
    "haven.platforms.v1",
    "platform id",
    "distributor",
    (PlatformSnapshot,),
    partitions=1,
    compacted=True,
)
DELIVERIES = TopicSpec("haven.deliveries.v1", "platform id", "distributor", (DeliveryRecorded,))
MATCHES = TopicSpec("haven.matches.v1", "<signal>:<value>", "matcher", (MatchFound,))
ACTIONS = TopicSpec("haven.actions.v1", "<signal>:<value>", "matcher", (ActionReported,))
CHECKPOINTS = TopicSpec(
    "haven.audit.checkpoints.v1", "log origin", "audit", (CheckpointSigned,), partitions=1
)
WEBHOOK_FAILURES = TopicSpec(
    "haven.webhooks.dlq.v1", "platform id", "distributor", (WebhookBatchFailed,)
)
DEADLETTERS = TopicSpec(
    "haven.deadletters.v1", "source topic", "any consumer", (DeadLettered,), partitions=1
)

TOPICS: tuple[TopicSpec, ...] = (
    SUBMISSIONS,
    CASES,
    HASHLIST,
    PLATFORMS,
    DELIVERIES,
    MATCHES,
    ACTIONS,
    CHECKPOINTS,
    WEBHOOK_FAILURES,
    DEADLETTERS,
)

# Topics some service consumes; each gets a DLQ with the same partitioning.
CONSUMED: tuple[TopicSpec, ...] = (
    SUBMISSIONS,
    CASES,
    HASHLIST,
    PLATFORMS,
    DELIVERIES,
    MATCHES,
    ACTIONS,
)


def platform_topic(platform_id: str) -> TopicSpec:
    """``haven.platform.<id>.v1``: one platform's filtered list, for platforms that use Kafka."""
    if not _PLATFORM_ID.fullmatch(platform_id):
        raise ValueError(f"{platform_id!r} is not a valid platform id")
    return TopicSpec(
        f"haven.platform.{platform_id}.v1",
        "<signal>:<value>",
        "distributor",
        (PlatformListEntry,),
        compacted=True,
    )


def dlq_of(spec: TopicSpec) -> TopicSpec:
    """The dead-letter topic of a consumed topic; kept 30 days for investigation."""
    return TopicSpec(
        spec.name + DLQ_SUFFIX,
        spec.key,
        "any consumer",
        (),
        spec.partitions,
        retention_ms=30 * DAY_MS,
        max_message_bytes=spec.max_message_bytes,  # a poison copy is as large as its source
    )


def all_topics() -> tuple[TopicSpec, ...]:
    """Every fixed topic plus the DLQ of every consumed one."""
    return TOPICS + tuple(dlq_of(spec) for spec in CONSUMED)


def qualified(name: str, namespace: str = "") -> str:
    """The topic name within a namespace (``""`` in production)."""
    return f"{namespace}.{name}" if namespace else name
