"""Running a batch of lookups against the index: one lock hold, timed per signal.

Shared by ``POST /v1/match`` and ``POST /v1/match/image``. The index is read under its own
lock (``SharedIndex``), which the consumer also takes to apply an entry, so a lookup never
sees a half-applied change; a withdrawal applied before the lock is taken never matches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.signals import SignalType
from services.matcher.domain import Match, SharedIndex, VideoFrames
from services.matcher.metrics import MatcherMetrics

DEFAULT_PDQ_DISTANCE = 31
MAX_PDQ_DISTANCE = 64


@dataclass(frozen=True)
class Lookup:
    """One signal to look up: a PDQ or MD5 value, or a video's frames."""

    signal: SignalType
    value: str = ""
    frames: VideoFrames = ()
    max_distance: int = DEFAULT_PDQ_DISTANCE


def run_lookups(
    index: SharedIndex, metrics: MatcherMetrics, lookups: Sequence[Lookup]
) -> list[list[Match]]:
    """The matches of every lookup, in order."""
    results: list[list[Match]] = []
    with index.locked() as view:
        for lookup in lookups:
            started = time.perf_counter()
            if lookup.signal is SignalType.PDQ:
                found = view.match_pdq(lookup.value, lookup.max_distance)
            elif lookup.signal is SignalType.MD5:
                found = view.match_md5(lookup.value)
            else:
                found = view.match_vpdq(lookup.frames)
            signal = lookup.signal.value
            metrics.lookup_seconds.labels(signal).observe(time.perf_counter() - started)
            results.append(found)
    for lookup, found in zip(lookups, results, strict=True):
        metrics.queries.labels(lookup.signal.value).inc()
        if found:
            metrics.matches.labels(lookup.signal.value).inc(len(found))
    return results
