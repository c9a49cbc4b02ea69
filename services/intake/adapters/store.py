"""The case read model in Redis: case snapshots, per-fingerprint facts and consumed positions.

Layout (under ``<namespace>:intake``)::

    case:<case number>       hash {rank, snapshot, mac} latest CaseSnapshot (highest rank wins)
    fact:<key>:d / :m        set of platform ids        delivered to / matched on
    fact:<key>:a             hash platform → "rank|action"  latest action report per platform
    pos:<topic>:<partition>  next offset to apply

Facts are stored per fingerprint key, independent of any case, so the order in which the
topics are read never matters: a status read joins the case's items with the facts. Every
projector write is one Lua script that also advances the partition's position, so state and
position move together; a message at an offset below the stored position was applied already
and is skipped (redelivery after a crash or a rebalance is harmless). If Redis is emptied the
positions are gone too, and the projector starts each partition from the beginning: the read
model rebuilds from Kafka. The API writes case snapshots through after Kafka acknowledged them
(rank-guarded the same way), so a status read right after a create or add works.

Redis cannot grant access to a case. The snapshot is what a request's case secret is checked
against, so whoever could write it could swap the secret hash and take the case over. Each
stored snapshot therefore carries ``mac``: HMAC-SHA256, under ``case_mac_key`` (a secret of
intake that Redis never holds), of the case number and the snapshot's bytes. ``CaseStore.get``
treats a snapshot whose MAC does not verify as no case at all (the caller answers "unknown
case") and counts it (``haven_intake_forged_snapshots_total``).

``CaseStore`` is the ``CaseStorage`` and ``ReadModelWriter`` the ``ReadModel`` of
``adapters.ports``: only they know the key layout. Both pass ``tests/contract/`` against a real
Redis (``tests/integration/test_contracts.py``), as the in-memory fakes do in unit tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import redis
import redis.asyncio as aioredis

from schemas.events import CaseSnapshot
from services.intake.adapters.ports import CaseLocked, Position
from services.intake.domain import KeyFacts, snapshot_rank

log = logging.getLogger(__name__)
__all__ = ["APPLY", "PUT_CASE", "CaseLocked", "CaseStore", "Keys", "ReadModelWriter"]

_ADVANCE = """
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], tonumber(ARGV[1]) + 1)
"""

# KEYS[1] position, KEYS[2..] targets; ARGV[1] offset, ARGV[2] kind, ARGV[3..] arguments.
APPLY = (
    _ADVANCE
    + """
local kind = ARGV[2]
if kind == 'case' then
  local cur = redis.call('HGET', KEYS[2], 'rank')
  if (not cur) or cur < ARGV[3] then
    redis.call('HSET', KEYS[2], 'rank', ARGV[3], 'snapshot', ARGV[4], 'mac', ARGV[5])
  end
elseif kind == 'member' then
  for i = 2, #KEYS do redis.call('SADD', KEYS[i], ARGV[3]) end
elseif kind == 'action' then
  for i = 2, #KEYS do
    local cur = redis.call('HGET', KEYS[i], ARGV[3])
    if (not cur) or (string.match(cur, '^(.*)|') or '') < ARGV[4] then
      redis.call('HSET', KEYS[i], ARGV[3], ARGV[4] .. '|' .. ARGV[5])
    end
  end
end
return 1
"""
)

PUT_CASE = """
local cur = redis.call('HGET', KEYS[1], 'rank')
if (not cur) or cur < ARGV[1] then
  redis.call('HSET', KEYS[1], 'rank', ARGV[1], 'snapshot', ARGV[2], 'mac', ARGV[3])
  return 1
end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Keys:
    """Redis key names of the read model under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def case(self, case_number: str) -> str:
        return f"{self.prefix}:case:{case_number}"

    def delivered(self, key: str) -> str:
        return f"{self.prefix}:fact:{key}:d"

    def matched(self, key: str) -> str:
        return f"{self.prefix}:fact:{key}:m"

    def actions(self, key: str) -> str:
        return f"{self.prefix}:fact:{key}:a"

    def position(self, topic: str, partition: int) -> str:
        return f"{self.prefix}:pos:{topic}:{partition}"

    def epoch(self) -> str:
        """Marker written when the projector starts: gone means Redis lost the read model."""
        return f"{self.prefix}:epoch"

    def lock(self, case_id: str) -> str:
        return f"{self.prefix}:lock:{case_id}"


def snapshot_mac(key: bytes, case_number: str, snapshot: bytes) -> str:
    """The MAC that binds a stored snapshot to its case number, under a key Redis never holds."""
    return hmac.new(key, case_number.encode() + b"\n" + snapshot, hashlib.sha256).hexdigest()


class CaseStore:
    """What the API reads and writes through (async): ``ports.CaseStorage`` in Redis."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        *,
        mac_key: bytes,
        on_forged: Callable[[], None] = lambda: None,
    ) -> None:
        self._redis = client
        self.keys = Keys(prefix)
        self._mac_key = mac_key
        self._on_forged = on_forged
        self._put = client.register_script(PUT_CASE)
        self._release = client.register_script(RELEASE)

    async def get(self, case_number: str) -> CaseSnapshot | None:
        stored = await self._redis.hmget(self.keys.case(case_number), ["snapshot", "mac"])
        raw, mac = (value.encode() if isinstance(value, str) else value for value in stored)
        if raw is None:
            return None
        expected = snapshot_mac(self._mac_key, case_number, raw).encode()
        if mac is None or not hmac.compare_digest(mac, expected):
            log.error("a case snapshot in Redis failed its MAC; treated as unknown")
            self._on_forged()
            return None
        return CaseSnapshot.model_validate_json(raw)

    async def put(self, snapshot: CaseSnapshot) -> None:
        raw = snapshot.model_dump_json().encode()
        mac = snapshot_mac(self._mac_key, snapshot.case_number, raw)
        await self._put(
            keys=[self.keys.case(snapshot.case_number)], args=[snapshot_rank(snapshot), raw, mac]
        )

    async def facts(self, keys: list[str]) -> dict[str, KeyFacts]:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.smembers(self.keys.delivered(key))
            pipe.smembers(self.keys.matched(key))
            pipe.hgetall(self.keys.actions(key))
        replies: list[Any] = await pipe.execute()
        facts = {}
        for index, key in enumerate(keys):
            delivered, matched, actions = replies[3 * index : 3 * index + 3]
            facts[key] = KeyFacts(
                delivered={p.decode() for p in delivered},
                matched={p.decode() for p in matched},
                actions={
                    platform.decode(): _split_report(report.decode())
                    for platform, report in actions.items()
                },
            )
        return facts

    @asynccontextmanager
    async def lock(self, case_id: str, *, timeout: float) -> AsyncIterator[None]:
        """A per-case mutex (SET NX PX, released only by its holder) so concurrent adds to one
        case cannot both read the same item list and lose one another's items."""
        key, token = self.keys.lock(case_id), secrets.token_hex(8)
        deadline = time.monotonic() + timeout
        lease_ms = int(max(timeout, 1.0) * 3000)
        while not await self._redis.set(key, token, nx=True, px=lease_ms):
            if time.monotonic() > deadline:
                raise CaseLocked(case_id)
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            await self._release(keys=[key], args=[token])


def _split_report(report: str) -> tuple[str, str]:
    rank, _, action = report.rpartition("|")
    return rank, action


class ReadModelWriter:
    """What the projector writes (sync, from its consumer thread): ``ports.ReadModel`` in
    Redis. Each ``apply_*``/``skip`` is one call of the ``APPLY`` script, so the effect and the
    partition's position are written together or not at all."""

    def __init__(self, client: redis.Redis, prefix: str, *, mac_key: bytes) -> None:
        self._redis = client
        self.keys = Keys(prefix)
        self._mac_key = mac_key
        self._apply = client.register_script(APPLY)

    def position(self, topic: str, partition: int) -> int | None:
        raw = self._redis.get(self.keys.position(topic, partition))
        return None if raw is None else int(raw)

    def mark_epoch(self, epoch: str) -> None:
        self._redis.set(self.keys.epoch(), epoch)

    def epoch_lost(self) -> bool:
        """True when the marker is gone: Redis lost the read model. (Every intake instance
        writes its own marker value; any value means the model is still there.)"""
        raw = self._redis.get(self.keys.epoch())
        return raw is None

    def apply_case(self, at: Position, snapshot: CaseSnapshot) -> bool:
        target = self.keys.case(snapshot.case_number)
        raw = snapshot.model_dump_json()
        mac = snapshot_mac(self._mac_key, snapshot.case_number, raw.encode())
        return self._run(at, "case", [target], snapshot_rank(snapshot), raw, mac)

    def apply_delivered(self, at: Position, keys: Sequence[str], platform_id: str) -> bool:
        return self._run(at, "member", [self.keys.delivered(key) for key in keys], platform_id)

    def apply_matched(self, at: Position, key: str, platform_id: str) -> bool:
        return self._run(at, "member", [self.keys.matched(key)], platform_id)

    def apply_action(
        self, at: Position, key: str, platform_id: str, *, rank: str, action: str
    ) -> bool:
        return self._run(at, "action", [self.keys.actions(key)], platform_id, rank, action)

    def skip(self, at: Position) -> bool:
        return self._run(at, "skip", [])

    def _run(self, at: Position, kind: str, targets: list[str], *args: str) -> bool:
        """Apply one message's effect and advance the position; False if already applied."""
        keys = [self.keys.position(at.topic, at.partition), *targets]
        return bool(self._apply(keys=keys, args=[at.offset, kind, *args]))
