"""PDQ hashes held for radius search: exact brute force over packed 256-bit rows.

A deliberately simple first index (numpy XOR + popcount over every row); the matcher's
multi-index structure in ``services.matcher.index`` replaces it where it is faster.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def pack(hex_value: str) -> npt.NDArray[np.uint64]:
    return np.frombuffer(bytes.fromhex(hex_value), dtype=">u8").astype(np.uint64)


class PdqStore:
    """Add, remove and search PDQ hashes; rows are kept contiguous (swap-remove)."""

    def __init__(self) -> None:
        self._rows = np.zeros((0, 4), dtype=np.uint64)
        self._count = 0
        self._hex: list[str] = []
        self._slot: dict[str, int] = {}

    def __len__(self) -> int:
        return self._count

    def add(self, value: str) -> None:
        if value in self._slot:
            return
        if self._count == len(self._rows):
            grown = np.zeros((max(1024, 2 * len(self._rows)), 4), dtype=np.uint64)
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
        self._rows[self._count] = pack(value)
        self._slot[value] = self._count
        self._hex.append(value)
        self._count += 1

    def remove(self, value: str) -> None:
        slot = self._slot.pop(value, None)
        if slot is None:
            return
        last = self._count - 1
        if slot != last:
            moved = self._hex[last]
            self._rows[slot] = self._rows[last]
            self._hex[slot] = moved
            self._slot[moved] = slot
        self._hex.pop()
        self._count -= 1

    def search(self, value: str, max_distance: int) -> list[tuple[str, int]]:
        if self._count == 0:
            return []
        xor = np.bitwise_xor(self._rows[: self._count], pack(value))
        distances = np.bitwise_count(xor).sum(axis=1)
        hits = np.nonzero(distances <= max_distance)[0]
        return [(self._hex[i], int(distances[i])) for i in hits]
