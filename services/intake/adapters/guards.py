"""Abuse guards in Redis: per-client rate limits and Idempotency-Key replays.

Rate limits never see an address at rest. The client id is
``HMAC-SHA256(day key, address)`` where the day key is ``HMAC-SHA256(seed, "YYYY-MM-DD")``
(UTC), so ids cannot be linked across days, and the seed (a secret) is needed to test whether
an address was a client even within the day. The id lives only in a Redis counter whose TTL
is one window (a minute): fixed windows, ``429`` with ``Retry-After`` until the window ends.

Idempotency: the store is keyed by SHA-256 of the client's Idempotency-Key, never the key
itself. The stored answer of a create contains the case secret, which Haven must not keep in
clear, so it is sealed with AES-GCM under a key derived from the Idempotency-Key: only a
client holding that key can replay it. A first request claims the key (``SET NX`` with a
short lease); a concurrent duplicate waits for the answer rather than opening a second case.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def client_network(address: str, *, ipv6_prefix: int = 64) -> str:
    """What one client is for rate limiting: an IPv4 address, or the IPv6 network of
    ``ipv6_prefix`` bits around it (one home or phone is given a whole /64, so keying on the
    exact address would give it 2^64 buckets). An IPv4-mapped IPv6 address is its IPv4."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def client_id(seed: bytes, address: str, *, now: datetime | None = None) -> str:
    """The rate-limit identity of a client (``client_network``) for today (UTC)."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    day_key = hmac.new(seed, f"haven-client-key:{day}".encode(), hashlib.sha256).digest()
    return hmac.new(day_key, address.encode(), hashlib.sha256).hexdigest()


class RateLimiter:
    """Fixed-window counters per client id and class of request."""

    def __init__(self, client: aioredis.Redis, prefix: str, *, window_s: int) -> None:
        self._redis = client
        self._prefix = prefix
        self._window = window_s

    async def hit(self, kind: str, client: str, limit: int) -> int | None:
        """Count a request; None if allowed, else the seconds until the window resets."""
        now = time.time()
        window = int(now // self._window)
        key = f"{self._prefix}:rl:{kind}:{client}:{window}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self._window + 1)
        count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return max(1, int((window + 1) * self._window - now) + 1)


@dataclass
class Replay:
    """A stored answer to replay, or a key reused for a different request."""

    status: int
    body: dict[str, Any]
    same_request: bool


class IdempotencyInFlight(Exception):
    """The first request with this key is still running after we waited."""


class Idempotency:
    def __init__(self, client: aioredis.Redis, prefix: str, *, ttl_s: int) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl = ttl_s

    def _slot(self, key: str) -> str:
        digest = hashlib.sha256(f"haven-idempotency:{key}".encode()).hexdigest()
        return f"{self._prefix}:idem:{digest}"

    @staticmethod
    def _cipher(key: str) -> AESGCM:
        return AESGCM(hashlib.sha256(f"haven-idempotency-seal:{key}".encode()).digest())

    async def begin(self, key: str, request_hash: str, *, wait_s: float = 15.0) -> Replay | None:
        """Claim ``key`` (None: go ahead) or return the answer of the earlier request."""
        slot = self._slot(key)
        deadline = time.monotonic() + wait_s
        pending = json.dumps({"state": "pending", "request": request_hash})
        while True:
            if await self._redis.set(slot, pending, nx=True, ex=int(wait_s) + 30):
                return None
            raw = await self._redis.get(slot)
            if raw is not None:
                stored = json.loads(raw)
                if stored["request"] != request_hash:
                    return Replay(status=422, body={}, same_request=False)
                if stored["state"] == "done":
                    sealed = bytes.fromhex(stored["sealed"])
                    body = json.loads(self._cipher(key).decrypt(sealed[:12], sealed[12:], None))
                    return Replay(status=int(stored["status"]), body=body, same_request=True)
            if time.monotonic() > deadline:
                raise IdempotencyInFlight(key)
            await asyncio.sleep(0.05)

    async def finish(self, key: str, request_hash: str, status: int, body: dict[str, Any]) -> None:
        nonce = os.urandom(12)
        sealed = nonce + self._cipher(key).encrypt(nonce, json.dumps(body).encode(), None)
        record = {
            "state": "done",
            "request": request_hash,
            "status": status,
            "sealed": sealed.hex(),
        }
        await self._redis.set(self._slot(key), json.dumps(record), ex=self._ttl)

    async def abandon(self, key: str) -> None:
        """The first request failed: let a retry run afresh."""
        await self._redis.delete(self._slot(key))
