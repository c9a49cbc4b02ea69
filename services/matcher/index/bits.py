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
