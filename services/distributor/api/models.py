"""The distributor's API models: request bodies are ``XCreate``, answers ``XRead``.

One place for every model the admin and platform API reads or answers, so that the routes
stay thin and the OpenAPI document reads as one vocabulary.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from schemas.events import Channel, PlatformSnapshot
from schemas.signals import SignalType
from services.distributor.domain.platforms import PLATFORM_ID_PATTERN


class PlatformCreate(BaseModel):
    """A platform to add to the registry."""

    id: str = Field(pattern=PLATFORM_ID_PATTERN, description="stable id, e.g. 'example-social'")
    name: str = Field(min_length=1, max_length=200)
    signals: list[SignalType] = Field(
        default_factory=lambda: list(SignalType), min_length=1, description="signals it wants"
    )
    channels: list[Channel] = Field(default_factory=lambda: [Channel.PULL], min_length=1)
    webhook_url: str | None = Field(default=None, max_length=2000)

    @field_validator("signals", "channels")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return sorted(set(values))


class ApiKeyRead(BaseModel):
    key_id: str
    expires_at: datetime | None


class PlatformRead(BaseModel):
    """A platform as the registry shows it: never any key material."""

    id: str
    name: str
    enabled: bool
    signals: list[SignalType]
    channels: list[Channel]
    webhook_url: str | None
    api_keys: list[ApiKeyRead]
    webhook_secret_version: int

    @classmethod
    def of(cls, snapshot: PlatformSnapshot) -> PlatformRead:
        return cls(
            id=snapshot.platform_id,
            name=snapshot.name,
            enabled=snapshot.enabled,
            signals=snapshot.signals,
            channels=snapshot.channels,
            webhook_url=snapshot.webhook_url,
            api_keys=[
                ApiKeyRead(key_id=k.key_id, expires_at=k.expires_at) for k in snapshot.api_keys
            ],
            webhook_secret_version=snapshot.webhook_secret_version,
        )


class PlatformCredentialsRead(BaseModel):
    """A platform and its new credentials: shown this once, stored only as hashes."""

    platform: PlatformRead
    api_key: str = Field(description="send as 'Authorization: Bearer <api_key>'")
    webhook_secret: str | None = Field(
        default=None, description="verifies the Haven-Signature header of webhook batches"
    )
    kafka: KafkaCredentialsRead | None = Field(
        default=None, description="the Kafka channel: where and as whom to consume your list"
    )


class KafkaCredentialsRead(BaseModel):
    """A platform's own Kafka principal (SASL/SCRAM-SHA-512 over TLS): READ on its topic and
    on consumer groups starting with ``group_prefix``, nothing else."""

    topic: str
    group_prefix: str
    username: str
    password: str = Field(description="shown once; rotate-key replaces it at once")
    mechanism: str = "SCRAM-SHA-512"
    security_protocol: str = "SASL_SSL"


class KeyRotationCreate(BaseModel):
    grace_period_s: int | None = Field(
        default=None, ge=0, le=90 * 24 * 3600, description="how long the old key keeps working"
    )


class ChannelProgressRead(BaseModel):
    channel: str
    cursor: int | None = Field(description="last sequence delivered (push channels)")
    backlog: int | None = Field(description="entries not delivered yet (push channels)")


class PlatformStatusRead(BaseModel):
    platform: PlatformRead
    stable_sequence: int
    channels: list[ChannelProgressRead]
