"""Webhook signing and the retry policy (pure logic).

**Signing.** Every POST carries ``Haven-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>``
is HMAC-SHA256 with the platform's webhook secret over ``f"{t}.{body}"`` (the raw body
bytes). During a key rotation's grace period a second ``v1=`` carries the signature made with
the previous secret, so a platform can switch secrets without dropping a batch. The secret is
never stored: it is HMAC-SHA256(webhook key seed, ``f"{platform_id}:{version}"``), shown once
when the platform is added and when its key is rotated. To verify on the receiving side::

    import hashlib, hmac, time

    def verify(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
        parts = [p.split("=", 1) for p in header.split(",")]
        t = next(v for k, v in parts if k == "t")
        if abs(time.time() - int(t)) > tolerance:
            return False  # stale or replayed
        expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")

Deduplicate on each entry's ``event_id`` (stable across redeliveries) and apply an entry only
if its ``sequence`` is higher than the one you hold for that key.

**Retries.** Timeouts, connection errors, 5xx and 429 are retried with exponential backoff
and full jitter (``uniform(0, min(cap, base·2^(attempt-1)))``); a ``Retry-After`` (seconds or
HTTP date) is honoured, up to the cap. Other 4xx mean the platform rejected the batch: no
retry. After the last attempt the batch goes to ``haven.webhooks.dlq.v1`` with its entries
and the dispatcher moves on (see ``adapters/fanout.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

SIGNATURE_HEADER = "Haven-Signature"
SIGNATURE_TOLERANCE_S = 300


def webhook_secret(seed: bytes, platform_id: str, version: int) -> str:
    """The signing secret of one platform at one secret version (derived, never stored)."""
    return hmac.new(seed, f"{platform_id}:{version}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def verify_signature(
    header: str,
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_S,
) -> bool:
    """Whether ``header`` is a valid, fresh signature of ``body`` by ``secret``."""
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v for k, v in pairs if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for k, v in pairs if k == "v1")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed ``attempt`` (1-based) before the next one."""
        if retry_after is not None:
            return min(self.cap_s, retry_after)
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)
