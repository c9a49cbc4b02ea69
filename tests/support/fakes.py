"""In-memory stand-ins for intake's Redis read model and for the Kafka producer.

They pass the same contract suites as the real adapters (``tests/contract/``), so a unit test
through them says something true about the real thing. ``MemoryCaseStore`` and
``MemoryReadModel`` share one ``MemoryReadState``, as ``CaseStore`` and ``ReadModelWriter``
share Redis: what the projector applies is what a status read sees. ``MemoryReadState.clear``
is Redis losing everything.

``MemoryPublisher`` keeps every acknowledged message per topic and partition with increasing
offsets (one key always lands on one partition), and can be told that deliveries fail, as
they do while the broker is away. It is also a ``TopicReader``: ``read_to_end`` hands back
what it was given, as a rebuild from Kafka would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from pydantic import BaseModel

from schemas.events import CaseSnapshot
from services.common.catch_up import Record
from services.common.kafka import Acknowledged, DeliveryFailed, Headers, Publisher, encode
from services.intake.adapters.ports import CaseLocked, Position
from services.intake.domain import KeyFacts, snapshot_rank

# ------------------------------------------------------------------ the read model


@dataclass
class MemoryReadState:
    """What Redis holds for intake's read model: snapshots (as JSON, ranked), facts per
    fingerprint key, applied positions, the epoch marker and the case locks."""

    cases: dict[str, tuple[str, str]] = field(default_factory=dict)  # number -> (rank, json)
    delivered: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    matched: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # key -> platform -> (rank, action)
    actions: defaultdict[str, dict[str, tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    positions: dict[tuple[str, int], int] = field(default_factory=dict)  # next offset to apply
    epoch: str | None = None
    locks: dict[str, str] = field(default_factory=dict)  # case id -> holder's token
    guard: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Lose everything, as an emptied Redis does."""
        with self.guard:
            self.cases.clear()
            self.delivered.clear()
            self.matched.clear()
            self.actions.clear()
            self.positions.clear()
            self.epoch = None
            self.locks.clear()

    def put_case(self, rank: str, snapshot: CaseSnapshot) -> None:
        """Store unless a higher-ranked snapshot is there (call with ``guard`` held)."""
        current = self.cases.get(snapshot.case_number)
        if current is None or current[0] < rank:
            self.cases[snapshot.case_number] = (rank, snapshot.model_dump_json())


class MemoryCaseStore:
    """``CaseStorage`` in memory."""

    lock_poll_s = 0.01

    def __init__(self, state: MemoryReadState | None = None) -> None:
        self.state = state or MemoryReadState()

    async def get(self, case_number: str) -> CaseSnapshot | None:
        with self.state.guard:
            stored = self.state.cases.get(case_number)
        return None if stored is None else CaseSnapshot.model_validate_json(stored[1])

    async def put(self, snapshot: CaseSnapshot) -> None:
        with self.state.guard:
            self.state.put_case(snapshot_rank(snapshot), snapshot)

    async def facts(self, keys: list[str]) -> dict[str, KeyFacts]:
        state = self.state
        with state.guard:
            return {
                key: KeyFacts(
                    delivered=set(state.delivered.get(key, ())),
                    matched=set(state.matched.get(key, ())),
                    actions=dict(state.actions.get(key, {})),
                )
                for key in keys
            }

    @asynccontextmanager
    async def lock(self, case_id: str, *, timeout: float) -> AsyncIterator[None]:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + timeout
        while not self._acquire(case_id, token):
            if time.monotonic() > deadline:
                raise CaseLocked(case_id)
            await asyncio.sleep(self.lock_poll_s)
        try:
            yield
        finally:
            with self.state.guard:
                if self.state.locks.get(case_id) == token:
                    del self.state.locks[case_id]

    def _acquire(self, case_id: str, token: str) -> bool:
        with self.state.guard:
            if case_id in self.state.locks:
                return False
            self.state.locks[case_id] = token
            return True


class MemoryReadModel:
    """``ReadModel`` in memory; each apply checks and advances the position under one lock,
    as the real adapter's Lua script does."""

    def __init__(self, state: MemoryReadState | None = None) -> None:
        self.state = state or MemoryReadState()

    def position(self, topic: str, partition: int) -> int | None:
        with self.state.guard:
            return self.state.positions.get((topic, partition))

    def mark_epoch(self, epoch: str) -> None:
        with self.state.guard:
            self.state.epoch = epoch

    def epoch_lost(self) -> bool:
        with self.state.guard:
            return self.state.epoch is None

    def apply_case(self, at: Position, snapshot: CaseSnapshot) -> bool:
        rank = snapshot_rank(snapshot)
        with self.state.guard:
            if not self._advance(at):
                return False
            self.state.put_case(rank, snapshot)
            return True

    def apply_delivered(self, at: Position, keys: Sequence[str], platform_id: str) -> bool:
        with self.state.guard:
            if not self._advance(at):
                return False
            for key in keys:
                self.state.delivered[key].add(platform_id)
            return True

    def apply_matched(self, at: Position, key: str, platform_id: str) -> bool:
        with self.state.guard:
            if not self._advance(at):
                return False
            self.state.matched[key].add(platform_id)
            return True

    def apply_action(
        self, at: Position, key: str, platform_id: str, *, rank: str, action: str
    ) -> bool:
        with self.state.guard:
            if not self._advance(at):
                return False
            reports = self.state.actions[key]
            current = reports.get(platform_id)
            if current is None or current[0] < rank:
                reports[platform_id] = (rank, action)
            return True

    def skip(self, at: Position) -> bool:
        with self.state.guard:
            return self._advance(at)

    def _advance(self, at: Position) -> bool:
        """Move the partition's position past ``at``; False if it is past it already."""
        where = (at.topic, at.partition)
        current = self.state.positions.get(where)
        if current is not None and current > at.offset:
            return False
        self.state.positions[where] = at.offset + 1
        return True


def memory_read_model() -> tuple[MemoryCaseStore, MemoryReadModel]:
    """The API's and the projector's view of one fresh in-memory read model."""
    state = MemoryReadState()
    return MemoryCaseStore(state), MemoryReadModel(state)


# ------------------------------------------------------------------ the producer


class Sent:
    """One acknowledged message, shaped like a confluent ``Message``."""

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._key, self._value, self._headers = key, value, headers

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return list(self._headers)

    def error(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"Sent({self._topic}/{self._partition}@{self._offset}, key={self._key!r})"


class MemoryPublisher(Publisher):
    """``Publisher`` in memory: every message is acknowledged at once, unless told to fail."""

    def __init__(self, *, partitions: int = 3) -> None:
        self.partitions = partitions
        self._log: defaultdict[tuple[str, int], list[Sent]] = defaultdict(list)
        self._unkeyed = 0
        self._failing: dict[str | None, str] = {}  # topic (None: every topic) -> reason
        self._guard = threading.Lock()

    # --- steering the fake

    def fail_deliveries(
        self, reason: str = "broker unavailable", *, topic: str | None = None
    ) -> None:
        """From now on sends (to ``topic``, or to any topic) raise ``DeliveryFailed``."""
        self._failing[topic] = reason

    def resume_deliveries(self) -> None:
        self._failing.clear()

    def messages(self, topic: str) -> list[Sent]:
        """Every acknowledged message of ``topic``: partition by partition, in offset order."""
        with self._guard:
            return [
                sent
                for (name, _), log in sorted(self._log.items())
                if name == topic
                for sent in log
            ]

    # --- the Publisher protocol

    def produce(
        self,
        topic: str,
        key: str | bytes | None,
        value: bytes | BaseModel | None,
        *,
        headers: Headers | None = None,
    ) -> concurrent.futures.Future[Acknowledged]:
        future: concurrent.futures.Future[Acknowledged] = concurrent.futures.Future()
        reason = self._failing.get(topic, self._failing.get(None))
        if reason is not None:
            future.set_exception(DeliveryFailed(f"{topic}: {reason}"))
            return future
        raw_key = key.encode() if isinstance(key, str) else key
        payload = encode(value) if isinstance(value, BaseModel) else value
        raw_headers = [
            (name, item.encode() if isinstance(item, str) else (item or b""))
            for name, item in headers or []
        ]
        with self._guard:
            partition = self._partition(raw_key)
            log = self._log[(topic, partition)]
            sent = Sent(topic, partition, len(log), raw_key, payload, raw_headers)
            log.append(sent)
        future.set_result(sent)
        return future

    # --- the TopicReader protocol: what was published, read back

    def read_to_end(self, topic: str, handle: Callable[[Record], None]) -> int:
        """Every acknowledged message of ``topic``, partition by partition, in offset order."""
        messages = self.messages(topic)
        for sent in messages:
            handle(sent)
        return len(messages)

    def _partition(self, key: bytes | None) -> int:
        if key is None:  # no key, no order to keep: spread them
            self._unkeyed += 1
            return self._unkeyed % self.partitions
        return zlib.crc32(key) % self.partitions
