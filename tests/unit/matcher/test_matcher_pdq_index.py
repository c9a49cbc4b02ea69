"""The PDQ index must equal brute force exactly: every hash within the radius, nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.matcher.index import PdqIndex
from services.matcher.index.bits import Words, parse_pdq, parse_pdqs

HAYSTACK = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "pdq" / "haystack.txt"
)


def flip_bits(words: Words, count: int, rng: np.random.Generator) -> Words:
    """A copy of one hash with ``count`` distinct bits flipped: exactly that far away."""
    out = words.copy()
    for bit in rng.choice(256, size=count, replace=False).tolist():
        out[bit // 64] ^= np.uint64(1 << (63 - bit % 64))
    return out


def brute_force(bank: Words, alive: np.ndarray, query: Words, radius: int) -> dict[int, int]:
    distances = np.unpackbits((bank ^ query.reshape(1, 4)).view(np.uint8), axis=1).sum(axis=1)
    rows = np.flatnonzero((distances <= radius) & alive)
    return {int(r): int(distances[r]) for r in rows}


def found(index: PdqIndex, query: Words, radius: int | None = None) -> dict[int, int]:
    hits = index.search(query, radius)
    assert len(set(hits.rows.tolist())) == len(hits.rows), "a row was returned twice"
    return dict(zip(hits.rows.tolist(), hits.distances.tolist(), strict=True))


def random_bank(rng: np.random.Generator, size: int) -> Words:
    return rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64)


def clustered_bank(rng: np.random.Generator, size: int) -> Words:
    """Families of near-duplicates around real PDQ hashes, as a hash list really looks."""
    seeds = parse_pdqs(HAYSTACK.read_text().split())
    family = [flip_bits(seeds[i % len(seeds)], int(rng.integers(0, 40)), rng) for i in range(size)]
    return np.stack(family)


def planted_queries(rng: np.random.Generator, bank: Words, per_distance: int) -> list[Words]:
    """Queries at every distance 0..40 from a banked hash, plus unrelated random hashes."""
    queries = [
        flip_bits(bank[int(rng.integers(len(bank)))], distance, rng)
        for distance in range(41)
        for _ in range(per_distance)
    ]
    return queries + list(random_bank(rng, 20))


@pytest.mark.parametrize("tables", [12, 16])
@pytest.mark.parametrize("make_bank", [random_bank, clustered_bank])
def test_search_equals_brute_force(make_bank: object, tables: int) -> None:
    rng = np.random.default_rng(7)
    assert callable(make_bank)
    bank: Words = make_bank(rng, 6000)
    index = PdqIndex(tables=tables, tail_limit=500)  # bulk build, then merges, then a live tail
    index.add_many(bank[:4000])
    for start in range(4000, 6000, 300):
        index.add_many(bank[start : start + 300])
    alive = np.ones(len(bank), dtype=bool)
    for query in planted_queries(rng, bank, per_distance=3):
        assert found(index, query) == brute_force(bank, alive, query, 31)


@pytest.mark.parametrize("radius", [0, 5, 16, 31, 40, 64])
def test_any_radius_is_exact(radius: int) -> None:
    rng = np.random.default_rng(radius)
    bank = clustered_bank(rng, 3000)
    index = PdqIndex()
    index.add_many(bank)
    alive = np.ones(len(bank), dtype=bool)
    for query in planted_queries(rng, bank, per_distance=1):
        assert found(index, query, radius) == brute_force(bank, alive, query, radius)


def test_single_adds_match_at_once_and_survive_merges() -> None:
    rng = np.random.default_rng(3)
    index = PdqIndex(tail_limit=64)
    bank = random_bank(rng, 300)
    for row, words in enumerate(bank):
        assert index.add(words) == row
        near = flip_bits(words, 31, rng)
        assert found(index, near) == {row: 31}
    assert len(index) == 300
    for row in rng.choice(300, size=30, replace=False).tolist():
        assert found(index, bank[row]) == {row: 0}


def test_removed_rows_disappear_immediately() -> None:
    rng = np.random.default_rng(4)
    bank = random_bank(rng, 2000)
    index = PdqIndex(tail_limit=100)
    index.add_many(bank[:1900])
    index.add_many(bank[1900:])  # these stay in the tail
    alive = np.ones(len(bank), dtype=bool)
    for row in [0, 5, 1899, 1900, 1999]:
        query = flip_bits(bank[row], 10, rng)
        assert row in found(index, query)
        assert index.remove(row)
        alive[row] = False
        assert row not in found(index, query)
        assert found(index, query, 80) == brute_force(bank, alive, query, 80)
    assert not index.remove(0)
    assert len(index) == 1995


def test_hex_round_trip_and_rejection() -> None:
    text = HAYSTACK.read_text().split()[0]
    assert parse_pdq(text).astype(">u8").tobytes().hex() == text
    with pytest.raises(ValueError, match="'xyz' is not a valid PDQ hash"):
        parse_pdq("xyz")
    with pytest.raises(ValueError, match="not hexadecimal"):
        parse_pdq("g" * 64)


def test_bulk_load_defers_merges_then_matches_exactly_like_incremental_adds() -> None:
    rng = np.random.default_rng(7)
    bank = clustered_bank(rng, 6000)
    bulk = PdqIndex(tail_limit=256)
    bulk.defer_merges = True
    for row in bank:
        bulk.add(row)
    assert bulk.rows_used == len(bank)
    queries = planted_queries(rng, bank, 2)
    before = [found(bulk, q) for q in queries]  # answered from the tail while loading
    bulk.defer_merges = False
    bulk.flush()
    bulk.add(flip_bits(bank[0], 3, rng))  # incremental again after the load
    alive = np.ones(len(bank) + 1, dtype=bool)
    full = np.concatenate([bank, bulk.words_at(len(bank)).reshape(1, 4)])
    for query, during in zip(queries, before, strict=True):
        expected = brute_force(full, alive, query, 31)
        assert found(bulk, query) == expected
        assert during == brute_force(bank, alive[:-1], query, 31)
