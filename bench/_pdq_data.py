"""Synthetic PDQ hash lists and queries for bench/matcher.py.

Two kinds of bank: ``uniform`` (independent random bits, the easy case for hashing-based
indexes because buckets fill evenly) and ``clustered`` (families of near-duplicates around
centres derived from real PDQ hashes, so bit biases and dense neighbourhoods are those of a
real hash list: the hard case, with many true matches per planted query).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from services.matcher.index.bits import Words, parse_pdqs

HAYSTACK = Path(__file__).resolve().parent.parent / ".." / "shared/testdata/pdq/haystack.txt"
_CHUNK = 1 << 20


def _sparse_bits(rng: np.random.Generator, shape: tuple[int, ...], ands: int) -> Words:
    """Random words where each bit is set with probability 2**-ands."""
    mask = rng.integers(0, 2**64, size=shape, dtype=np.uint64)
    for _ in range(ands - 1):
        mask &= rng.integers(0, 2**64, size=shape, dtype=np.uint64)
    return mask


def uniform_bank(rng: np.random.Generator, size: int) -> Words:
    return rng.integers(0, 2**64, size=(size, 4), dtype=np.uint64)


def clustered_bank(rng: np.random.Generator, size: int, family_size: int = 8) -> Words:
    """Families of ~``family_size`` variants (about 8, 16 or 32 bits from their centre)."""
    seeds = parse_pdqs(HAYSTACK.read_text().split())
    bank = np.empty((size, 4), dtype=np.uint64)
    for start in range(0, size, _CHUNK):
        stop = min(start + _CHUNK, size)
        families = np.arange(start, stop) // family_size
        family_rng = np.random.default_rng(families[0])
        count = families[-1] - families[0] + 1
        # a centre: a real hash with ~1/4 of its bits re-drawn, keeping its biases nearby
        centres = seeds[family_rng.integers(len(seeds), size=count)] ^ _sparse_bits(
            family_rng, (count, 4), 2
        )
        members = centres[families - families[0]]
        level = rng.integers(3, 6, size=stop - start)  # 1/8, 1/16, 1/32 bit density
        for ands in (3, 4, 5):
            pick = level == ands
            members[pick] ^= _sparse_bits(rng, (int(pick.sum()), 4), ands)
        bank[start:stop] = members
    return bank


def make_queries(rng: np.random.Generator, bank: Words, count: int) -> Words:
    """Half planted within distance 0..31 of a banked hash, half uniformly random."""
    planted = bank[rng.integers(len(bank), size=count // 2)].copy()
    for row in planted:
        for bit in rng.choice(256, size=int(rng.integers(0, 32)), replace=False).tolist():
            row[bit // 64] ^= np.uint64(1 << (63 - bit % 64))
    random = uniform_bank(rng, count - len(planted))
    return np.concatenate([planted, random])


def to_bytes(words: Words) -> np.ndarray:
    """Hash bytes in hex order, ``(n, 32) uint8``, as FAISS binary indexes take them."""
    return np.ascontiguousarray(words.astype(">u8")).view(np.uint8).reshape(len(words), 32)


def to_hex(words: Words) -> list[str]:
    raw = to_bytes(words).tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]
