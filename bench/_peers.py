"""The three PDQ indexes bench/matcher.py compares, behind one small interface.

Each returns, per query, the set of banked rows within distance 31. FAISS's flat binary
index is brute force and therefore the recall oracle.
"""

from __future__ import annotations

from typing import Protocol

import faiss
import numpy as np

from bench._pdq_data import to_bytes, to_hex
from services.matcher.index import PdqIndex
from services.matcher.index.bits import Words

RADIUS = 31


class Contender(Protocol):
    name: str

    def build(self, bank: Words) -> None: ...
    def query_one(self, query: Words) -> set[int]: ...
    def query_batch(self, queries: Words) -> list[set[int]]: ...
    def nbytes(self) -> int | None: ...


class HavenContender:
    name = "haven PdqIndex (MIH, numpy)"

    def __init__(self, tables: int) -> None:
        self.tables = tables
        self.name = f"haven PdqIndex m={tables}"
        self.index = PdqIndex(tables=tables)

    def build(self, bank: Words) -> None:
        self.index.add_many(bank)
        self.index.search(bank[0])  # loads the compiled kernels (cached on disk) once

    def query_one(self, query: Words) -> set[int]:
        return set(self.index.search(query).rows.tolist())

    def query_batch(self, queries: Words) -> list[set[int]]:
        return [set(h.rows.tolist()) for h in self.index.search_many(queries)]

    def nbytes(self) -> int | None:
        return self.index.nbytes()


class ThreatExchangeContender:
    """threatexchange 1.2.x ``PDQIndex``: FAISS IndexBinaryMultiHash, as HMA uses it."""

    name = "threatexchange PDQIndex"

    def build(self, bank: Words) -> None:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        self.index = PDQIndex(zip(to_hex(bank), range(len(bank)), strict=True))

    def query_one(self, query: Words) -> set[int]:
        return {int(m.metadata) for m in self.index.query(to_hex(query.reshape(1, 4))[0])}

    def query_batch(self, queries: Words) -> list[set[int]]:
        hexes = to_hex(queries)
        found = self.index.index.search_with_distance_in_result(hexes, RADIUS)
        return [{int(i) for i, _, _ in found[h]} for h in hexes]

    def nbytes(self) -> int | None:
        return None


class FaissFlatContender:
    """FAISS IndexBinaryFlat: exhaustive, exact; the oracle."""

    name = "faiss IndexBinaryFlat"

    def build(self, bank: Words) -> None:
        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(to_bytes(bank))

    def _search(self, codes: np.ndarray) -> list[set[int]]:
        limits, _, labels = self.index.range_search(codes, RADIUS + 1)  # strict "<"
        return [set(labels[limits[i] : limits[i + 1]].tolist()) for i in range(len(codes))]

    def query_one(self, query: Words) -> set[int]:
        return self._search(to_bytes(query.reshape(1, 4)))[0]

    def query_batch(self, queries: Words) -> list[set[int]]:
        return self._search(to_bytes(queries))

    def nbytes(self) -> int | None:
        return int(self.index.ntotal) * 32
