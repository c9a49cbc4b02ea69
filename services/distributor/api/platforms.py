"""``/v1/platforms``: the platform registry's admin API (and a platform's view of itself).

Every change is written to ``haven.platforms.v1`` and answered only after the broker
acknowledged it. Key material is returned once, in the answer that created it, and never
again; ``GET`` shows key ids and expiry only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Request

from schemas.bootstrap import ensure_topics
from schemas.events import Channel, PlatformSnapshot
from schemas.security import PLATFORM_TOPIC_PREFIX
from schemas.topics import PLATFORMS, platform_topic
from services.common.http import ApiError
from services.common.platform_keys import require_platform
from services.distributor.adapters import kafka_credentials
from services.distributor.adapters.public_http import resolve_allowed
from services.distributor.api.deps import AdminDep, DistributorDep, is_admin
from services.distributor.api.models import (
    ChannelProgressRead,
    KafkaCredentialsRead,
    KeyRotationCreate,
    PlatformCreate,
    PlatformCredentialsRead,
    PlatformRead,
    PlatformStatusRead,
)
from services.distributor.domain.platforms import (
    check_webhook_url,
    new_platform,
    rotated,
    with_enabled,
)
from services.distributor.domain.webhooks import webhook_secret
from services.distributor.operations import Distributor

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])


def _credentials(d: Distributor, snapshot: PlatformSnapshot, key: str) -> PlatformCredentialsRead:
    """The answer that shows new credentials once; a new Kafka password is issued here."""
    secret = kafka = None
    platform_id = snapshot.platform_id
    if Channel.WEBHOOK in snapshot.channels:
        seed = d.settings.webhook_key_seed.get_secret_value().encode()
        secret = webhook_secret(seed, platform_id, snapshot.webhook_secret_version)
    if Channel.KAFKA in snapshot.channels:
        s = d.settings
        kafka = KafkaCredentialsRead(
            topic=s.topic(platform_topic(platform_id)),
            group_prefix=s.topic(f"{PLATFORM_TOPIC_PREFIX}{platform_id}."),
            username=kafka_credentials.username(s, platform_id),
            password=kafka_credentials.issue(s, platform_id, enabled=snapshot.enabled),
        )
    return PlatformCredentialsRead(
        platform=PlatformRead.of(snapshot), api_key=key, webhook_secret=secret, kafka=kafka
    )


def _publish(d: Distributor, snapshot: PlatformSnapshot) -> None:
    topic = d.settings.topic(PLATFORMS)
    d.producer.send(topic, snapshot.platform_id, snapshot)
    d.directory.apply(snapshot)


def _existing(d: Distributor, platform_id: str) -> PlatformSnapshot:
    snapshot = d.directory.get(platform_id)
    if snapshot is None:
        raise ApiError(
            404,
            "platform_not_found",
            f"{platform_id!r} is not a registered platform",
            ("platform_id", "unknown"),
        )
    return snapshot


@router.post("", status_code=201)
def add_platform(body: PlatformCreate, d: AdminDep) -> PlatformCredentialsRead:
    """Register a platform; answers its API key (and webhook secret) once."""
    if Channel.WEBHOOK in body.channels:
        allow = d.settings.webhook_allow_loopback
        try:
            url = check_webhook_url(body.webhook_url or "", allow_loopback_http=allow)
            parts = urlsplit(url)
            default_port = 443 if parts.scheme == "https" else 80
            resolve_allowed(parts.hostname or "", parts.port or default_port, allow_loopback=allow)
        except ValueError as exc:
            raise ApiError(422, "validation_failed", str(exc), ("webhook_url", str(exc))) from exc
    with d.registry_lock:
        if d.directory.get(body.id) is not None:
            raise ApiError(
                409,
                "platform_exists",
                f"{body.id!r} is already registered",
                ("id", "already registered"),
            )
        snapshot, key = new_platform(
            platform_id=body.id,
            name=body.name,
            signals=body.signals,
            channels=body.channels,
            webhook_url=body.webhook_url,
            now=datetime.now(UTC),
        )
        if Channel.KAFKA in body.channels:
            s = d.settings
            ensure_topics(s.kafka, (platform_topic(body.id),), namespace=s.kafka_namespace)
        _publish(d, snapshot)
    return _credentials(d, snapshot, key)


@router.get("")
def list_platforms(d: AdminDep) -> list[PlatformRead]:
    """Every registered platform (no key material)."""
    return [PlatformRead.of(p) for p in d.directory.all()]


@router.get("/{platform_id}")
def get_platform(platform_id: str, request: Request, d: DistributorDep) -> PlatformStatusRead:
    """One platform and its delivery progress (admin token, or that platform's own key)."""
    if not is_admin(request, d):
        caller = require_platform(request, d.directory)
        if caller.platform_id != platform_id:
            raise ApiError(
                403,
                "forbidden",
                "a platform key can only read its own platform",
                ("platform_id", "not your platform"),
            )
    snapshot = _existing(d, platform_id)
    signals = frozenset(snapshot.signals)
    progress = []
    for channel in snapshot.channels:
        cursor = d.fanout.cursor(platform_id, channel)
        backlog = None if cursor is None else d.view.backlog(after=cursor, signals=signals)
        progress.append(ChannelProgressRead(channel=channel.value, cursor=cursor, backlog=backlog))
    return PlatformStatusRead(
        platform=PlatformRead.of(snapshot), stable_sequence=d.view.stable, channels=progress
    )


def _set_enabled(d: Distributor, platform_id: str, enabled: bool) -> PlatformRead:
    with d.registry_lock:
        snapshot = with_enabled(_existing(d, platform_id), enabled, now=datetime.now(UTC))
        if Channel.KAFKA in snapshot.channels:
            change = kafka_credentials.allow if enabled else kafka_credentials.deny
            change(d.settings, platform_id)
        _publish(d, snapshot)
    return PlatformRead.of(snapshot)


@router.post("/{platform_id}/disable")
def disable_platform(platform_id: str, d: AdminDep) -> PlatformRead:
    """Stop all deliveries to a platform and refuse its keys."""
    return _set_enabled(d, platform_id, False)


@router.post("/{platform_id}/enable")
def enable_platform(platform_id: str, d: AdminDep) -> PlatformRead:
    """Resume a platform: deliveries continue from where they stopped."""
    return _set_enabled(d, platform_id, True)


@router.post("/{platform_id}/rotate-key")
def rotate_key(
    platform_id: str,
    d: AdminDep,
    rotation: Annotated[KeyRotationCreate | None, Body()] = None,
) -> PlatformCredentialsRead:
    """Issue a new API key and webhook secret; the old ones work for the grace period."""
    grace_s = d.settings.key_grace_period_s
    if rotation is not None and rotation.grace_period_s is not None:
        grace_s = rotation.grace_period_s
    with d.registry_lock:
        snapshot, key = rotated(
            _existing(d, platform_id), grace=timedelta(seconds=grace_s), now=datetime.now(UTC)
        )
        _publish(d, snapshot)
    return _credentials(d, snapshot, key)
