"""RFC 9162 Merkle tree: published vectors byte for byte, then exhaustive properties.

The vectors are the standard eight-leaf RFC 6962 set used by transparency-dev/merkle
(testonly/constants.go, proof/verify_test.go) and certificate-transparency-go.
"""

from __future__ import annotations

import pytest

from services.audit.log.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# ROOTS[n] = MTH of the first n leaves.
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]

LEAF_HASHES = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    )
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (leaf index, tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]


def _tree(n: int) -> MerkleTree:
    return MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(n))


def test_hash_primitives_match_rfc6962_vectors() -> None:
    assert ROOTS[0] == EMPTY_ROOT
    assert leaf_hash(b"") == LEAF_HASHES[0]
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
    assert [leaf_hash(leaf) for leaf in LEAVES] == LEAF_HASHES


def test_roots_for_every_size_match_vectors() -> None:
    tree = MerkleTree()
    assert tree.root() == ROOTS[0]
    for n, leaf in enumerate(LEAVES, start=1):
        tree.append(leaf_hash(leaf))
        assert tree.root() == ROOTS[n], n
        assert root_from_leaf_hashes(LEAF_HASHES[:n]) == ROOTS[n]
    for n in range(9):
        assert tree.root(n) == ROOTS[n]
    packed = MerkleTree.from_packed(b"".join(LEAF_HASHES))
    assert [packed.root(n) for n in range(9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_vectors(index: int, size: int, proof: list[bytes]) -> None:
    tree = MerkleTree(LEAF_HASHES)
    assert tree.inclusion_proof(index, size) == proof
    assert verify_inclusion(
        index=index, size=size, leaf_hash=LEAF_HASHES[index], proof=proof, root=ROOTS[size]
    )


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_vectors(old: int, new: int, proof: list[bytes]) -> None:
    tree = MerkleTree(LEAF_HASHES)
    assert tree.consistency_proof(old, new) == proof
    assert verify_consistency(
        old_size=old, new_size=new, old_root=ROOTS[old], new_root=ROOTS[new], proof=proof
    )


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ 0x10]) + out[i][1:]
    return out


def test_every_inclusion_proof_up_to_64_verifies_and_tampering_fails() -> None:
    tree = _tree(64)
    for size in range(1, 65):
        root = tree.root(size)
        assert root == root_from_leaf_hashes([tree.leaf_hash(i) for i in range(size)])
        for index in range(size):
            lh = tree.leaf_hash(index)
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(index=index, size=size, leaf_hash=lh, proof=proof, root=root)
            bad_leaf = leaf_hash(b"not this one")
            assert not verify_inclusion(
                index=index, size=size, leaf_hash=bad_leaf, proof=proof, root=root
            )
            for i in range(len(proof)):
                assert not verify_inclusion(
                    index=index, size=size, leaf_hash=lh, proof=_flip(proof, i), root=root
                )
            assert not verify_inclusion(
                index=index, size=size, leaf_hash=lh, proof=[*proof, root], root=root
            )
            if proof:
                assert not verify_inclusion(
                    index=index, size=size, leaf_hash=lh, proof=proof[:-1], root=root
                )
            if index + 1 < size and size > 1:
                assert not verify_inclusion(
                    index=index + 1, size=size, leaf_hash=lh, proof=proof, root=root
                )


def test_every_consistency_proof_up_to_64_verifies_and_tampering_fails() -> None:
    tree = _tree(64)
    roots = [tree.root(n) for n in range(65)]

    def ok(old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
        return verify_consistency(
            old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
        )

    for new in range(0, 65):
        for old in range(0, new + 1):
            proof = tree.consistency_proof(old, new)
            assert ok(old, new, roots[old], roots[new], proof), (old, new)
            if 0 < old < new:
                assert not ok(old, new, roots[old], roots[new - 1], proof)
                assert not ok(old, new, roots[old - 1], roots[new], proof)
                assert not ok(old, new, roots[old], roots[new], proof[:-1])
                assert not ok(old, new, roots[old], roots[new], [])
                assert not ok(old, new, roots[old], roots[new], [*proof, roots[new]])
                assert not ok(old - 1, new, roots[old], roots[new], proof)
                for i in range(len(proof)):
                    assert not ok(old, new, roots[old], roots[new], _flip(proof, i))


def test_out_of_range_requests_are_refused() -> None:
    tree = _tree(5)
    for index, size in [(0, 0), (5, 5), (0, 6), (-1, 3)]:
        with pytest.raises(ProofError):
            tree.inclusion_proof(index, size)
    for old, new in [(3, 2), (0, 6), (-1, 2)]:
        with pytest.raises(ProofError):
            tree.consistency_proof(old, new)
    with pytest.raises(ProofError):
        tree.root(6)
    assert not verify_inclusion(index=0, size=0, leaf_hash=EMPTY_ROOT, proof=[], root=EMPTY_ROOT)
    assert not verify_inclusion(index=0, size=1, leaf_hash=b"short", proof=[], root=b"short")
    assert not verify_consistency(
        old_size=2, new_size=1, old_root=EMPTY_ROOT, new_root=EMPTY_ROOT, proof=[]
    )


def test_packed_build_matches_incremental_build() -> None:
    incremental = _tree(1000)
    packed = MerkleTree.from_packed(b"".join(incremental.leaf_hash(i) for i in range(1000)))
    for size in (1, 2, 3, 511, 512, 513, 999, 1000):
        assert packed.root(size) == incremental.root(size)
        assert packed.inclusion_proof(size - 1, size) == incremental.inclusion_proof(size - 1, size)
    assert packed.consistency_proof(300, 1000) == incremental.consistency_proof(300, 1000)
    packed.append(leaf_hash(b"next"))
    incremental.append(leaf_hash(b"next"))
    assert packed.root() == incremental.root()
