"""RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification.

The audit log is only as trustworthy as the proofs anyone can check against it, so
this module follows RFC 9162 (Certificate Transparency v2) to the letter and is
tested byte for byte against published vectors. It has no I/O: callers feed it leaf
hashes.

- ``leaf_hash`` / ``node_hash``: SHA-256 with the 0x00 / 0x01 domain-separation
  prefixes.
- ``MerkleTree``: keeps every perfect-subtree hash level by level (2x the leaf-hash
  bytes), appends in O(1) amortised time and answers roots and proofs for any
  past size with O(log n) hash computations.
- ``verify_inclusion`` / ``verify_consistency``: the §2.1.3.2 and §2.1.4.2
  algorithms, usable without any of the above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof was requested for sizes or indices the tree cannot answer."""


def leaf_hash(leaf: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Reference MTH by the RFC's recursive definition (slow; for tests and tiny trees)."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


class MerkleTree:
    """An append-only tree that keeps every perfect subtree's hash.

    ``_levels[h]`` is a bytearray of 32-byte hashes; entry ``i`` is the root of the
    perfect subtree over leaves [i * 2**h, (i + 1) * 2**h). Any MTH(D[a:b]) that the
    RFC recursion asks for is then one lookup for its perfect left parts plus a
    walk down its ragged right edge: O(log n) lookups and node hashes.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        for h in leaf_hashes:
            self.append(h)

    @classmethod
    def from_packed(cls, packed: bytes) -> MerkleTree:
        """Build from concatenated 32-byte leaf hashes (the storage file layout)."""
        if len(packed) % HASH_SIZE:
            raise ValueError(f"packed leaf hashes length {len(packed)} is not a multiple of 32")
        tree = cls()
        tree._levels[0] = bytearray(packed)
        tree._size = len(packed) // HASH_SIZE
        level = tree._levels[0]
        while len(level) >= 2 * HASH_SIZE:
            view = memoryview(level)
            parent = bytearray()
            for i in range(0, len(level) - HASH_SIZE, 2 * HASH_SIZE):
                parent += hashlib.sha256(b"\x01" + view[i : i + 2 * HASH_SIZE]).digest()
            tree._levels.append(parent)
            level = parent
        return tree

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash_: bytes) -> int:
        """Append one leaf hash; returns its index."""
        if len(leaf_hash_) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash_)}")
        index = self._size
        self._levels[0] += leaf_hash_
        node, i, h = leaf_hash_, index, 0
        while i & 1:
            left = self._node(h, i - 1)
            node = node_hash(left, node)
            i >>= 1
            h += 1
            if h == len(self._levels):
                self._levels.append(bytearray())
            self._levels[h] += node
        self._size += 1
        return index

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self._size:
            raise ProofError(f"leaf index {index} is outside the tree of size {self._size}")
        return self._node(0, index)

    def _node(self, level: int, index: int) -> bytes:
        off = index * HASH_SIZE
        return bytes(self._levels[level][off : off + HASH_SIZE])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) where start is aligned as in the RFC recursion."""
        n = end - start
        if n & (n - 1) == 0:  # perfect subtree: stored
            return self._node(n.bit_length() - 1, start >> (n.bit_length() - 1))
        k = _split(n)
        return node_hash(self._node(k.bit_length() - 1, start // k), self._subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise ProofError(f"tree size {size} is outside 0..{self._size}")
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) per RFC 9162 §2.1.3.1, leaf-side first."""
        if not 0 <= index < size <= self._size:
            raise ProofError(f"no inclusion proof for index {index} in size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[new_size]) per RFC 9162 §2.1.4.1 ([] when trivial)."""
        if not 0 <= old_size <= new_size <= self._size:
            raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, complete = 0, new_size, True
        while old_size != end:
            k = _split(end - start)
            if old_size - start <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
                complete = False
        if not complete:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof


def _check_hashes(*hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf ``index`` under ``root`` at ``size``?"""
    if not 0 <= index < size or not _check_hashes(leaf_hash, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need equal roots and an
    empty proof; an empty old tree is consistent with anything (empty proof)."""
    if not 0 <= old_size <= new_size or not _check_hashes(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
