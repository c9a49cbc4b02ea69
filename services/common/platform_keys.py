"""Platform API keys and the read-only platform directory every platform-facing service holds.

A key looks like ``hvn_<key id>_<secret>``: the key id (12 hex characters) names the key in
logs, snapshots and rotation; the secret is 32 random bytes. Keys are stored only as the
SHA-256 of the whole key. A fast hash is enough here, unlike for case secrets: the key carries
256 bits of entropy, so there is nothing to brute-force; comparisons are constant-time.

The directory is a projection of ``haven.platforms.v1`` (compacted, one partition), rebuilt
from the beginning by each instance with its own consumer group and no commits, like the
matcher's index. The distributor writes the topic; the matcher and distributor authenticate
against their directory, so a new platform or a rotated key works everywhere once the
snapshot has been read (usually within milliseconds).

Rotation: the old key gets ``expires_at`` (the grace period) and keeps working until then.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime

from confluent_kafka import Message
from fastapi import Request

from schemas.events import ApiKeyHash, PlatformSnapshot
from schemas.topics import PLATFORMS
from services.common.consumer import ConsumerHooks, ConsumerLoop
from services.common.http import ApiError
from services.common.kafka import EventProducer
from services.common.settings import ServiceSettings

KEY_PREFIX = "hvn"
_KEY = re.compile(r"hvn_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(expires_at: datetime | None = None) -> tuple[str, ApiKeyHash]:
    """A fresh key (to show once) and the only thing that is stored about it."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return key, ApiKeyHash(key_id=key_id, sha256=key_sha256(key), expires_at=expires_at)


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def key_valid(stored: ApiKeyHash, key: str, now: datetime) -> bool:
    if stored.expires_at is not None and stored.expires_at <= now:
        return False
    return hmac.compare_digest(stored.sha256, key_sha256(key))


class PlatformDirectory:
    """The latest snapshot of every platform, and key lookup. Thread-safe."""

    def __init__(self) -> None:
        self._platforms: dict[str, PlatformSnapshot] = {}
        self._by_key_id: dict[str, tuple[str, ApiKeyHash]] = {}
        self._lock = threading.Lock()

    def apply(self, snapshot: PlatformSnapshot) -> None:
        with self._lock:
            old = self._platforms.get(snapshot.platform_id)
            if old is not None:
                for stored in old.api_keys:
                    self._by_key_id.pop(stored.key_id, None)
            self._platforms[snapshot.platform_id] = snapshot
            for stored in snapshot.api_keys:
                self._by_key_id[stored.key_id] = (snapshot.platform_id, stored)

    def get(self, platform_id: str) -> PlatformSnapshot | None:
        with self._lock:
            return self._platforms.get(platform_id)

    def all(self) -> list[PlatformSnapshot]:
        with self._lock:
            return sorted(self._platforms.values(), key=lambda p: p.platform_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._platforms)

    def authenticate(self, key: str, now: datetime | None = None) -> PlatformSnapshot | None:
        """The enabled platform owning ``key`` if it is valid now, else None."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        with self._lock:
            found = self._by_key_id.get(key_id)
            if found is None:
                return None
            platform_id, stored = found
            platform = self._platforms[platform_id]
        if not platform.enabled or not key_valid(stored, key, now or datetime.now(UTC)):
            return None
        return platform


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_platform(request: Request, directory: PlatformDirectory) -> PlatformSnapshot:
    """The platform calling this request, or a 401 naming the problem."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(
            401,
            "unauthenticated",
            "send your platform API key as 'Authorization: Bearer <key>'",
            fields=[{"field": "Authorization", "message": "missing"}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    platform = directory.authenticate(token)
    if platform is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "this API key is unknown, expired, or its platform is disabled",
            fields=[{"field": "Authorization", "message": "invalid"}],
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return platform


class PlatformDirectoryWorker:
    """Feeds a ``PlatformDirectory`` from ``haven.platforms.v1``; ready once caught up."""

    def __init__(
        self,
        settings: ServiceSettings,
        producer: EventProducer,
        hooks: ConsumerHooks | None = None,
        directory: PlatformDirectory | None = None,
    ) -> None:
        self.directory = directory or PlatformDirectory()
        self.loop = ConsumerLoop(
            bootstrap=settings.kafka_bootstrap,
            group_id=settings.group(f"platforms.{uuid.uuid4().hex[:12]}"),
            topics=[settings.topic(PLATFORMS)],
            handler=self._apply,
            producer=producer,
            max_attempts=settings.consumer_max_attempts,
            hooks=hooks,
            overrides={"enable.auto.commit": False},
        )

    def _apply(self, msg: Message) -> None:
        if msg.value() is None:
            return
        self.directory.apply(PlatformSnapshot.model_validate_json(msg.value() or b""))

    @property
    def ready(self) -> bool:
        return self.loop.ready

    def run(self) -> None:
        self.loop.run()

    def stop(self) -> None:
        self.loop.stop()
