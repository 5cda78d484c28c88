"""RFC 9162 tree hashes and proofs: known vectors, then properties over random trees."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from transparency import merkle

# The reference tree of the Certificate Transparency C++ code, as Trillian's and
# transparency-dev's Go suites carry it: eight leaves, the root after each one.
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, path); the reference numbers leaves from 1, these from 0.
PATHS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
TREE = merkle.in_memory(HASHES)


def test_the_empty_tree_hashes_to_the_hash_of_nothing():
    assert merkle.root_hash(0, TREE) == hashlib.sha256(b"").digest()


def test_roots_match_the_reference_tree_at_every_size():
    assert [merkle.root_hash(n, TREE).hex() for n in range(1, 9)] == ROOTS


def test_inclusion_proofs_match_the_reference_paths_and_verify():
    for index, size, path in PATHS:
        proof = merkle.inclusion_proof(index, size, TREE)
        assert [p.hex() for p in proof] == path
        root = bytes.fromhex(ROOTS[size - 1])
        assert merkle.verify_inclusion(index, size, HASHES[index], proof, root)


def test_consistency_proofs_match_the_reference_and_verify():
    for old, new, path in CONSISTENCY:
        proof = merkle.consistency_proof(old, new, TREE)
        assert [p.hex() for p in proof] == path
        old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
        assert merkle.verify_consistency(old, new, old_root, new_root, proof)


def test_a_reference_consistency_proof_fails_against_another_old_root():
    _, _, path = CONSISTENCY[2]
    proof = [bytes.fromhex(p) for p in path]
    wrong = bytes.fromhex(ROOTS[4])  # size 5's root, claimed for size 6
    assert not merkle.verify_consistency(6, 8, wrong, bytes.fromhex(ROOTS[7]), proof)


def test_proofs_refuse_positions_outside_the_tree():
    for index, size in ((8, 8), (0, 0)):
        try:
            merkle.inclusion_proof(index, size, TREE)
        except ValueError:
            continue
        raise AssertionError(f"proof of leaf {index} in size {size}")
    for old, new in ((0, 3), (5, 4)):
        try:
            merkle.consistency_proof(old, new, TREE)
        except ValueError:
            continue
        raise AssertionError(f"consistency {old} -> {new}")


def _tree(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=sizes)
def test_every_inclusion_proof_verifies_and_a_changed_leaf_fails(data, size):
    hashes = _tree(size)
    reader = merkle.in_memory(hashes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    root = merkle.root_hash(size, reader)
    proof = merkle.inclusion_proof(index, size, reader)
    assert merkle.verify_inclusion(index, size, hashes[index], proof, root)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"changed"), proof, root)
    if size > 1:
        other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
        assert not merkle.verify_inclusion(other, size, hashes[index], proof, root)
    if proof:
        bent = [*proof[:-1], merkle.leaf_hash(b"bent")]
        assert not merkle.verify_inclusion(index, size, hashes[index], bent, root)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), new=sizes)
def test_every_consistency_proof_verifies_and_a_changed_leaf_fails(data, new):
    hashes = _tree(new)
    reader = merkle.in_memory(hashes)
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = merkle.consistency_proof(old, new, reader)
    old_root, new_root = merkle.root_hash(old, reader), merkle.root_hash(new, reader)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    # A history rewritten below the old size: the old root no longer matches the new tree.
    changed = data.draw(st.integers(min_value=0, max_value=old - 1))
    forged = list(hashes)
    forged[changed] = merkle.leaf_hash(b"rewritten")
    forged_reader = merkle.in_memory(forged)
    forged_root = merkle.root_hash(new, forged_reader)
    forged_proof = merkle.consistency_proof(old, new, forged_reader)
    assert not merkle.verify_consistency(old, new, old_root, forged_root, forged_proof)
    if old < new:
        assert not merkle.verify_consistency(old, new, old_root, forged_root, proof)
