"""What intake needs of its storage, as Protocols: the API's ``CaseStorage`` and the status
projector's ``ReadModel``.

Both are views of one read model (in Redis: ``adapters.store``; in memory for unit tests:
``tests/support/fakes.py``): a snapshot the projector applies is what ``CaseStorage.get``
returns, and the facts it applies are what ``CaseStorage.facts`` joins. Every adapter passes
the same contract suites (``tests/contract/``), so a unit test through a fake tells the truth
about the real thing.

The projector speaks in fingerprint keys, platform ids and Kafka positions, never in storage
keys: each ``apply_*`` applies one message's effect *and* advances that partition's position
in one atomic step (the eventsourcing "tracking" habit), and answers ``False`` when that offset
was applied already, so a redelivered message is a no-op however often it comes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from schemas.events import CaseSnapshot
from services.intake.domain import KeyFacts


class CaseLocked(Exception):
    """Another request holds the case's lock for longer than we wait."""


@dataclass(frozen=True)
class Position:
    """Where a message sits in Kafka: what the read model records as applied."""

    topic: str
    partition: int
    offset: int


class CaseStorage(Protocol):
    """What the API reads and writes through (async)."""

    async def get(self, case_number: str) -> CaseSnapshot | None:
        """The case's latest snapshot, or None if the read model has none (yet)."""
        ...

    async def put(self, snapshot: CaseSnapshot) -> None:
        """Write a snapshot through; one that ranks below the stored one changes nothing
        (``domain.snapshot_rank``), so the API and the projector never move a case back."""
        ...

    async def facts(self, keys: list[str]) -> dict[str, KeyFacts]:
        """What was reported about each fingerprint key (empty facts for an unknown key)."""
        ...

    def lock(self, case_id: str, *, timeout: float) -> AbstractAsyncContextManager[None]:
        """Hold the case's mutex for the block; ``CaseLocked`` if not had within ``timeout``."""
        ...


class ReadModel(Protocol):
    """What the status projector writes (sync, from its consumer thread)."""

    def position(self, topic: str, partition: int) -> int | None:
        """The next offset to apply on the partition; None if nothing is recorded (never read,
        or the read model was lost): start from the beginning."""
        ...

    def apply_case(self, at: Position, snapshot: CaseSnapshot) -> bool:
        """Store the snapshot unless a higher-ranked one is stored already (True all the same:
        the offset was applied, the guard just kept the newer state)."""
        ...

    def apply_delivered(self, at: Position, keys: Sequence[str], platform_id: str) -> bool:
        """The fingerprints ``keys`` reached ``platform_id``."""
        ...

    def apply_matched(self, at: Position, key: str, platform_id: str) -> bool:
        """An upload on ``platform_id`` matched the fingerprint ``key``."""
        ...

    def apply_action(
        self, at: Position, key: str, platform_id: str, *, rank: str, action: str
    ) -> bool:
        """``platform_id`` reported ``action`` on ``key``; per platform the report with the
        highest ``rank`` (compared as strings) is the one that counts."""
        ...

    def skip(self, at: Position) -> bool:
        """Nothing to apply at ``at`` (a failed delivery, a topic we do not read): only the
        position advances."""
        ...

    def mark_epoch(self, epoch: str) -> None:
        """Leave a marker beside the read model; its absence later means the model was lost."""
        ...

    def epoch_lost(self) -> bool:
        """True when no marker is there: the read model is gone and must be rebuilt."""
        ...
