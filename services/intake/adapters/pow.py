"""Proof-of-work with ALTCHA: challenges signed with our HMAC key, each solution usable once.

A challenge is ``{"algorithm", "challenge", "maxnumber", "salt", "signature"}`` made by the
``altcha`` package; its salt carries ``?expires=`` so old challenges stop working. The client
finds ``number`` with ``sha256(salt + number) == challenge`` and sends the base64 JSON payload
in ``X-Altcha``. A verified challenge is put in a Redis replay set (``SET NX`` with a TTL that
outlives the challenge), so the same solution cannot open a second case. Losing Redis loses
only the replay set of the last few minutes, which the expiry bounds.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import redis.asyncio as aioredis
from altcha import v1 as altcha_v1


class PowFailure(StrEnum):
    """Why a proof-of-work was refused (also the metric label: a closed set)."""

    REQUIRED = "pow_required"
    INVALID = "pow_invalid"
    REPLAYED = "pow_replayed"


class PowRejected(Exception):
    def __init__(self, reason: PowFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ProofOfWork:
    """Issues ALTCHA challenges and accepts each valid solution once."""

    def __init__(
        self,
        *,
        hmac_key: str,
        max_number: int,
        expires_s: int,
        redis: aioredis.Redis,
        replay_prefix: str,
    ) -> None:
        self._key = hmac_key
        self._max_number = max_number
        self._expires_s = expires_s
        self._redis = redis
        self._prefix = replay_prefix

    def challenge(self) -> dict[str, Any]:
        expires = datetime.now(UTC) + timedelta(seconds=self._expires_s)
        made = altcha_v1.create_challenge(
            altcha_v1.ChallengeOptions(
                algorithm="SHA-256",
                max_number=self._max_number,
                hmac_key=self._key,
                expires=expires,
            )
        )
        return {
            "algorithm": made.algorithm,
            "challenge": made.challenge,
            "maxnumber": made.max_number,
            "salt": made.salt,
            "signature": made.signature,
        }

    async def spend(self, header: str | None) -> None:
        """Accept a solution once, or raise ``PowRejected``."""
        if not header:
            raise PowRejected(
                PowFailure.REQUIRED, "solve the proof-of-work from GET /v1/challenge first"
            )
        payload = _decode(header)
        try:
            ok, error = altcha_v1.verify_solution(header, self._key, check_expires=True)
        except (KeyError, TypeError, ValueError, AttributeError):
            ok, error = False, None
        if not ok:
            reason = "expired" if error and "expired" in error else "not a valid solution"
            raise PowRejected(PowFailure.INVALID, f"proof-of-work {reason}; fetch a new challenge")
        ttl = self._expires_s + 60
        first = await self._redis.set(
            f"{self._prefix}:{payload['challenge']}", b"1", nx=True, ex=ttl
        )
        if not first:
            raise PowRejected(
                PowFailure.REPLAYED, "this proof-of-work was already used; fetch a new challenge"
            )


def _decode(header: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise PowRejected(PowFailure.INVALID, "X-Altcha is not base64 JSON") from exc
    required = ("algorithm", "challenge", "number", "salt", "signature")
    if not isinstance(payload, dict) or any(name not in payload for name in required):
        raise PowRejected(PowFailure.INVALID, f"X-Altcha needs the fields {', '.join(required)}")
    if not all(
        isinstance(payload[n], str) for n in ("algorithm", "challenge", "salt", "signature")
    ):
        raise PowRejected(PowFailure.INVALID, "X-Altcha fields have the wrong types")
    if not isinstance(payload["number"], int) or isinstance(payload["number"], bool):
        raise PowRejected(PowFailure.INVALID, "X-Altcha number must be an integer")
    return payload


def solve(challenge: dict[str, Any], *, deadline_s: float = 60.0) -> str:
    """Brute-force a challenge (for the CLI and tests): the ``X-Altcha`` header value."""
    import hashlib

    salt, target = challenge["salt"], challenge["challenge"]
    started = time.monotonic()
    for number in range(int(challenge["maxnumber"]) + 1):
        if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() == target:
            payload = {
                "algorithm": challenge["algorithm"],
                "challenge": target,
                "number": number,
                "salt": salt,
                "signature": challenge["signature"],
            }
            return base64.b64encode(json.dumps(payload).encode()).decode()
        if number % 50_000 == 0 and time.monotonic() - started > deadline_s:
            break
    raise ValueError("proof-of-work challenge has no solution within maxnumber")
