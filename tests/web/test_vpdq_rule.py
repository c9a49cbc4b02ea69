"""The vPDQ matcher in vpdq.js applies Meta's rule at its edges.

Frame hashes are made by flipping a chosen number of bits of a random hash, so each
case sits exactly on (or just past) a threshold.
"""

from __future__ import annotations

import json
import random
from typing import Any

from .harness import run_harness

RNG = random.Random(7)
BASE = RNG.getrandbits(256)


def pdq(value: int) -> str:
    return f"{value:064x}"


def flipped(value: int, bits: int, offset: int = 0) -> int:
    """`value` with `bits` consecutive bits flipped, starting at bit `offset`."""
    return value ^ (((1 << bits) - 1) << offset)


def frames(*values: int, quality: int = 100) -> list[dict[str, Any]]:
    return [{"pdq": pdq(v), "quality": quality, "timestamp": i} for i, v in enumerate(values)]


def match(node: str, *pairs: dict[str, Any]) -> list[dict[str, Any]]:
    return run_harness(node, "vpdq_match_harness.mjs", stdin=json.dumps(pairs).encode())


def test_frame_distance_31_matches_and_32_does_not(node: str) -> None:
    at_31, at_32 = match(
        node,
        {"query": frames(BASE), "target": frames(flipped(BASE, 31))},
        {"query": frames(BASE), "target": frames(flipped(BASE, 32))},
    )
    assert at_31 == {"match": True, "queryMatchPercent": 100, "targetMatchPercent": 100}
    assert at_32 == {"match": False, "queryMatchPercent": 0, "targetMatchPercent": 0}


def test_both_directions_need_80_percent(node: str) -> None:
    others = [RNG.getrandbits(256) for _ in range(5)]
    four_of_five = frames(BASE, *others[:3], others[4])
    five = frames(BASE, *others[:4])
    exactly_80, below_in_target = match(
        node,
        {"query": four_of_five, "target": five},
        {"query": frames(BASE), "target": five},
    )
    assert exactly_80["queryMatchPercent"] == 80
    assert exactly_80["targetMatchPercent"] == 80
    assert exactly_80["match"] is True
    assert below_in_target["queryMatchPercent"] == 100
    assert below_in_target["targetMatchPercent"] == 20
    assert below_in_target["match"] is False


def test_low_quality_frames_are_ignored_and_repeats_count_once(node: str) -> None:
    other = RNG.getrandbits(256)
    target = frames(BASE) + frames(other, quality=49)
    query_with_repeats = frames(BASE, BASE, BASE, flipped(BASE, 3))
    result, all_low = match(
        node,
        {"query": query_with_repeats, "target": target},
        {"query": frames(BASE, quality=10), "target": frames(BASE, quality=10)},
    )
    assert result == {"match": True, "queryMatchPercent": 100, "targetMatchPercent": 100}
    assert all_low["match"] is False


def test_thresholds_are_configurable(node: str) -> None:
    [strict] = match(
        node,
        {
            "query": frames(BASE),
            "target": frames(flipped(BASE, 20)),
            "options": {"distanceThreshold": 10},
        },
    )
    assert strict["match"] is False
