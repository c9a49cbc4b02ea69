"""Redis connections. Redis holds only what Kafka can rebuild (read models, rate-limit buckets,
idempotency keys, the proof-of-work replay set), so every user of it must cope with it empty.
"""

from __future__ import annotations

import redis
import redis.asyncio as aioredis

TRANSIENT_REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


def async_client(url: str) -> aioredis.Redis:
    return aioredis.from_url(
        url, decode_responses=False, socket_timeout=5, health_check_interval=10
    )


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, decode_responses=False, socket_timeout=5, health_check_interval=10
    )
