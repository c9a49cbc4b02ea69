"""Every event on Haven's topics: past-tense facts, each with ``event_id``, ``schema_version``
and ``occurred_at``.

Events on one topic form a discriminated union on ``type`` so a consumer parses any of them
with one call (``parse_event``). Fields are additive within a ``schema_version``; a breaking
change means a new ``.v2`` topic.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.signals import Media, Signal, SignalType, StrictModel, VpdqFrame

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(StrictModel):
    """Fields every event carries. Consumers deduplicate on ``event_id``."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------- haven.submissions.v1


class MediaItem(StrictModel):
    """A media item inside a case: a stable id (shown to the submitter) and its fingerprints."""

    media_id: str = Field(min_length=1, max_length=32)
    media: Media


class CaseOpened(Event):
    """A submitter opened a case with one or more media items."""

    type: Literal["CaseOpened"] = "CaseOpened"
    case_id: str
    items: list[MediaItem] = Field(min_length=1)


class MediaAdded(Event):
    """A submitter added media items to an open case."""

    type: Literal["MediaAdded"] = "MediaAdded"
    case_id: str
    items: list[MediaItem] = Field(min_length=1)


class CaseWithdrawn(Event):
    """A submitter withdrew the whole case: every fingerprint it held is released."""

    type: Literal["CaseWithdrawn"] = "CaseWithdrawn"
    case_id: str


SubmissionEvent = Annotated[CaseOpened | MediaAdded | CaseWithdrawn, Field(discriminator="type")]


# --------------------------------------------------------------------- haven.cases.v1


class CaseStatus(StrEnum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"


class CaseSnapshot(Event):
    """Latest state of a case (compacted). The secret is kept only as a slow hash."""

    type: Literal["CaseSnapshot"] = "CaseSnapshot"
    case_id: str
    case_number: str
    secret_hash: str = Field(description="scrypt hash in the form scrypt$n$r$p$salt$hash")
    status: CaseStatus
    items: list[MediaItem]
    opened_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------- haven.hashlist.v1


class EntryStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    QUARANTINED = "quarantined"


class HashListEntry(Event):
    """The canonical state of one fingerprint (compacted, key ``<signal>:<value>``).

    ``holders`` are the opaque ids of the open cases holding the fingerprint; ``refcount`` is
    their number. ``sequence`` increases strictly with every change of any entry, which is
    the order every delivery channel follows.
    """

    type: Literal["HashListEntry"] = "HashListEntry"
    signal: SignalType
    value: str
    frames: list[VpdqFrame] | None = None
    status: EntryStatus
    refcount: int = Field(ge=0)
    holders: list[str] = Field(default_factory=list)
    first_seen: datetime
    last_changed: datetime
    sequence: int = Field(ge=1)

    @property
    def key(self) -> str:
        return f"{self.signal.value}:{self.value}"


# --------------------------------------------------------------------- haven.platforms.v1


class Channel(StrEnum):
    PULL = "pull"
    WEBHOOK = "webhook"
    KAFKA = "kafka"


class ApiKeyHash(StrictModel):
    """A platform API key, stored only as its SHA-256; ``expires_at`` is set after rotation."""

    key_id: str
    sha256: str
    expires_at: datetime | None = None


class PlatformChange(StrEnum):
    """What the admin change that produced a platform snapshot was (for the audit log)."""

    ADDED = "added"
    UPDATED = "updated"
    DISABLED = "disabled"
    ENABLED = "enabled"
    KEY_ROTATED = "key_rotated"


class PlatformSnapshot(Event):
    """Latest state of a participating platform (compacted, key platform id).

    Each snapshot is also the record of one admin change (``change``). API keys appear only as
    hashes. The webhook signing secret is never stored: it is derived from the deployment's
    webhook key seed, the platform id and ``webhook_secret_version`` (bumped on rotation).
    """

    type: Literal["PlatformSnapshot"] = "PlatformSnapshot"
    platform_id: str
    name: str
    enabled: bool = True
    signals: list[SignalType]
    channels: list[Channel]
    webhook_url: str | None = None
    api_keys: list[ApiKeyHash]
    change: PlatformChange = PlatformChange.UPDATED
    webhook_secret_version: int = Field(default=1, ge=1)


# --------------------------------------------------------------------- haven.platform.<id>.v1


class PlatformListEntry(Event):
    """One entry of a platform's filtered list: what it must block (active) or unblock."""

    type: Literal["PlatformListEntry"] = "PlatformListEntry"
    signal: SignalType
    value: str
    frames: list[VpdqFrame] | None = None
    status: EntryStatus
    sequence: int


# --------------------------------------------------------------------- haven.deliveries.v1


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


class DeliveryRecorded(Event):
    """A batch of hash-list entries reached (or finally failed to reach) a platform."""

    type: Literal["DeliveryRecorded"] = "DeliveryRecorded"
    platform_id: str
    channel: Channel
    batch_id: str
    first_sequence: int
    last_sequence: int
    keys: list[str]
    outcome: DeliveryOutcome
    attempts: int = 1


class EntryRef(StrictModel):
    """A hash-list entry by key and sequence (its content is on the hash list)."""

    key: str
    sequence: int


class WebhookBatchFailed(Event):
    """A webhook batch that exhausted its attempts (``haven.webhooks.dlq.v1``).

    It names the batch's entries by key and sequence, so an operator can replay them, without
    carrying them: a batch of videos can be far larger than a Kafka message, and a record
    that cannot be written would block the dead-lettering. The platform's webhook cursor moves
    on past it (a failed ``DeliveryRecorded`` marks the batch), so one rejected batch never
    freezes later additions and withdrawals; nothing is lost, because the entries are on the
    hash list and the platform's pull feed always serves the latest state of every key.
    """

    type: Literal["WebhookBatchFailed"] = "WebhookBatchFailed"
    platform_id: str
    batch_id: str
    first_sequence: int
    last_sequence: int
    entries: list[EntryRef]
    attempts: int
    last_error: str = Field(max_length=2000)


# --------------------------------------------------------------------- matches and actions


class MatchFound(Event):
    """A platform's upload matched a hash-list entry."""

    type: Literal["MatchFound"] = "MatchFound"
    platform_id: str
    signal: SignalType
    value: str
    sequence: int
    distance: int = Field(ge=0)
    upload_ref: str = Field(max_length=200, description="opaque reference chosen by the platform")


class ActionKind(StrEnum):
    BLOCKED = "blocked"
    REMOVED = "removed"
    NOT_VIOLATING = "not_violating"
    UNDER_REVIEW = "under_review"


class ActionReported(Event):
    """A platform reported what it did about a match."""

    type: Literal["ActionReported"] = "ActionReported"
    platform_id: str
    signal: SignalType
    value: str
    action: ActionKind
    upload_ref: str = Field(max_length=200)


# --------------------------------------------------------------------- audit


class CheckpointSigned(Event):
    """A signed tree head of the audit log, as C2SP signed-note text."""

    type: Literal["CheckpointSigned"] = "CheckpointSigned"
    origin: str
    tree_size: int = Field(ge=0)
    root_hash: str = Field(description="base64 of the RFC 9162 root hash")
    note: str = Field(description="the checkpoint in C2SP tlog-checkpoint signed-note form")


class DeadLettered(Event):
    """A record that a consumer sent a message to a DLQ (the payload itself is not repeated).

    Published on ``haven.deadletters.v1`` next to the DLQ write, so the audit log records that
    something was dead-lettered without copying a possibly sensitive or malformed payload.
    """

    type: Literal["DeadLettered"] = "DeadLettered"
    source_topic: str
    source_partition: int
    source_offset: int
    consumer_group: str
    error: str


__all__ = [
    "ActionKind",
    "ActionReported",
    "ApiKeyHash",
    "CaseOpened",
    "CaseSnapshot",
    "CaseStatus",
    "CaseWithdrawn",
    "Channel",
    "CheckpointSigned",
    "DeadLettered",
    "DeliveryOutcome",
    "DeliveryRecorded",
    "EntryStatus",
    "Event",
    "HashListEntry",
    "MatchFound",
    "MediaAdded",
    "MediaItem",
    "PlatformChange",
    "PlatformListEntry",
    "PlatformSnapshot",
    "Signal",
    "SubmissionEvent",
    "TypeAdapter",
    "WebhookBatchFailed",
]
