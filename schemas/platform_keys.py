"""Platform API keys and the platform directory: the rules every platform-facing service shares.

A key looks like ``hvn_<key id>_<secret>``: the key id (12 hex characters) names the key in
logs, snapshots and rotation; the secret is 32 random bytes. Keys are stored only as the
SHA-256 of the whole key. A fast hash is enough here, unlike for case secrets: the key carries
256 bits of entropy, so there is nothing to brute-force; comparisons are constant-time.
Rotation: the old key gets ``expires_at`` (the grace period) and keeps working until then.

These are part of the contract (the distributor writes hashed keys to ``haven.platforms.v1``,
the matcher checks keys against them), so they live beside the event models, not in any one
service and not in the plumbing of ``services.common``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from datetime import UTC, datetime

from schemas.events import ApiKeyHash, PlatformSnapshot

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
