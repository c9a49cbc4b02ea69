"""Redis connections, each as its service's own ACL user. Redis holds only what Kafka can rebuild (read models, rate-limit buckets,
idempotency keys, the proof-of-work replay set), so every user of it must cope with it empty.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis

TRANSIENT_REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


def _options(username: str | None, password: str | None) -> dict[str, Any]:
    return {
        "username": username,
        "password": password,
        "decode_responses": False,
        "socket_timeout": 5,
        "health_check_interval": 10,
    }


def async_client(
    url: str, *, username: str | None = None, password: str | None = None
) -> aioredis.Redis:
    """A client that authenticates as ``username`` (Redis ACL user) when given."""
    return aioredis.from_url(url, **_options(username, password))


def sync_client(
    url: str, *, username: str | None = None, password: str | None = None
) -> redis.Redis:
    return redis.Redis.from_url(url, **_options(username, password))
