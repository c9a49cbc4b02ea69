"""Publishing what platforms tell the matcher: ``MatchFound`` and ``ActionReported``.

Both are keyed ``<signal>:<value>`` of the banked entry, so every fact about one fingerprint
lands on one partition in order. Requests wait for the broker's acknowledgement of every
event before answering: a platform that got a 2xx knows the fact is recorded.

A platform retrying a match request (a timeout on its side) produces the same ``MatchFound``
again; its ``event_id`` is a UUID5 of platform, entry and upload reference (the empty
reference included: a platform that sends none reports each entry once), so consumers see
it as a redelivery. The matcher also remembers the ids it published lately
(``RecentlyPublished``) and does not send one again, so a replayed request adds nothing to
``haven.matches.v1``. Action reports keep random ids: the same report can legitimately be made
twice (under_review, then blocked, then under_review again), and the latest one wins.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from schemas.events import ActionKind, ActionReported, MatchFound
from schemas.signals import SignalType
from services.common.kafka import DeliveryFailed, Publisher
from services.matcher.domain import Match

MATCH_NAMESPACE = uuid.UUID("6d1f1f55-3a64-4c55-9d0b-6a1c2b7a5e11")


def match_event_id(platform_id: str, key: str, upload_ref: str) -> uuid.UUID:
    """Deterministic id: the same platform reporting the same upload against the same entry."""
    return uuid.uuid5(MATCH_NAMESPACE, f"{platform_id}\n{key}\n{upload_ref}")


def match_events(platform_id: str, found: Iterable[Match], upload_ref: str) -> list[MatchFound]:
    return [
        MatchFound(
            event_id=match_event_id(platform_id, m.key, upload_ref),
            platform_id=platform_id,
            signal=m.signal,
            value=m.value,
            sequence=m.sequence,
            distance=m.distance,
            upload_ref=upload_ref,
        )
        for m in found
    ]


class RecentlyPublished:
    """The ids of the last ``size`` events published (a bounded, insertion-ordered set)."""

    def __init__(self, size: int = 100_000) -> None:
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def fresh(self, events: Iterable[MatchFound]) -> list[MatchFound]:
        """The events not published lately (duplicates within ``events`` too)."""
        with self._lock:
            new: dict[uuid.UUID, MatchFound] = {}
            for event in events:
                if event.event_id not in self._ids:
                    new.setdefault(event.event_id, event)
            return list(new.values())

    def remember(self, events: Iterable[MatchFound]) -> None:
        with self._lock:
            for event in events:
                self._ids[event.event_id] = None
                self._ids.move_to_end(event.event_id)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)


def publish_all(
    producer: Publisher,
    topic: str,
    events: Iterable[MatchFound | ActionReported],
    *,
    timeout: float,
) -> None:
    """Produce every event, then wait for all acknowledgements; raises DeliveryFailed."""
    futures: list[concurrent.futures.Future[Any]] = [
        producer.produce(topic, f"{event.signal.value}:{event.value}", event) for event in events
    ]
    try:
        for future in futures:
            future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise DeliveryFailed(f"{topic}: not acknowledged within {timeout}s") from None


def action_event(
    platform_id: str, signal: SignalType, value: str, action: ActionKind, upload_ref: str
) -> ActionReported:
    return ActionReported(
        platform_id=platform_id,
        signal=signal,
        value=value,
        action=action,
        upload_ref=upload_ref,
    )
