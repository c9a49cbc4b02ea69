"""Bit-level helpers for 256-bit PDQ hashes held as four native uint64 words.

Every index in this package stores a PDQ hash as one row of a ``(n, 4) uint64`` array: 32
bytes, the most compact layout numpy can XOR and popcount in bulk. Word 0 holds the first
16 hex characters, and bit 0 of the hash is the most significant bit of word 0, so a slice
of the hash is the same bits whichever way it is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

import numpy as np
import numpy.typing as npt

Words = npt.NDArray[np.uint64]
PDQ_BITS = 256
PDQ_HEX_LENGTH = 64

_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _byte_counts(flat: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """Population count of every byte-group: one uint8 per uint64 word."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0: a SIMD popcount per word
        return np.bitwise_count(flat)
    # numpy 1.x fallback through a byte lookup table
    per_byte = _BYTE_POPCOUNT[flat.view(np.uint8)].reshape(-1, 8)  # pragma: no cover
    counts: npt.NDArray[np.uint8] = per_byte.sum(axis=1, dtype=np.uint8)  # pragma: no cover
    return counts  # pragma: no cover


def hamming_to(words: Words, query: Words) -> npt.NDArray[np.uint32]:
    """Hamming distance from every row of an ``(n, 4)`` word array to one query.

    Written for numpy's strengths: the XOR runs over one flat array against the query
    tiled to match (broadcasting a 4-wide row is ~3x slower), and the four per-word counts
    of a row, adjacent bytes, are summed as one uint32 with SWAR shifts instead of a
    reduction along a length-4 axis (~5x slower).
    """
    count = len(words)
    flat = np.bitwise_xor(words.reshape(-1), np.tile(query.reshape(4), count))
    packed = _byte_counts(flat).view(np.uint32)
    pairs = (packed & np.uint32(0x00FF00FF)) + ((packed >> np.uint32(8)) & np.uint32(0x00FF00FF))
    return (pairs & np.uint32(0xFFFF)) + (pairs >> np.uint32(16))


def parse_pdq(pdq_hex: str) -> Words:
    """One PDQ hex string as a ``(4,)`` word array; raises ValueError quoting a bad value."""
    if len(pdq_hex) != PDQ_HEX_LENGTH:
        raise ValueError(f"{pdq_hex!r} is not a valid PDQ hash: expected 64 hex characters")
    try:
        raw = bytes.fromhex(pdq_hex)
    except ValueError:
        raise ValueError(f"{pdq_hex!r} is not a valid PDQ hash: not hexadecimal") from None
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def parse_pdqs(pdq_hexes: Iterable[str]) -> Words:
    """Many PDQ hex strings as an ``(n, 4)`` word array."""
    rows = [parse_pdq(h) for h in pdq_hexes]
    if not rows:
        return np.empty((0, 4), dtype=np.uint64)
    return np.stack(rows)


def format_pdq(words: Words) -> str:
    """Inverse of :func:`parse_pdq`."""
    return np.asarray(words, dtype=np.uint64).astype(">u8").tobytes().hex()


def slice_widths(tables: int) -> list[int]:
    """Split 256 bits into ``tables`` contiguous slices whose widths differ by at most one."""
    base, extra = divmod(PDQ_BITS, tables)
    return [base + 1 if t < extra else base for t in range(tables)]


def extract_slice(words: Words, start: int, width: int) -> npt.NDArray[np.uint32]:
    """Bits ``[start, start + width)`` of every row, as an unsigned integer (width <= 32)."""
    word, offset = divmod(start, 64)
    column = words[:, word]
    if offset + width <= 64:
        shifted = column >> np.uint64(64 - offset - width)
        return (shifted & np.uint64((1 << width) - 1)).astype(np.uint32)
    high_bits = 64 - offset
    low_bits = width - high_bits
    high = (column & np.uint64((1 << high_bits) - 1)) << np.uint64(low_bits)
    low = words[:, word + 1] >> np.uint64(64 - low_bits)
    return (high | low).astype(np.uint32)


def flip_masks(width: int, max_flips: int) -> npt.NDArray[np.uint32]:
    """Every ``width``-bit mask with at most ``max_flips`` bits set (the probe set of MIH)."""
    masks = [
        sum(1 << bit for bit in chosen)
        for flips in range(max_flips + 1)
        for chosen in combinations(range(width), flips)
    ]
    return np.array(masks, dtype=np.uint32)
