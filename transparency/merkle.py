"""RFC 9162 §2.1 Merkle trees: tree hashes, inclusion and consistency proofs, their checks.

Pure functions, no Django. A tree is read through ``perfect(level, index)``: the hash of the
perfect subtree of ``2**level`` leaves that starts at leaf ``index * 2**level``. Every subtree
the RFC's recursions visit on their left is perfect and aligned, and every right part is split
the same way again, so this one reader is all a prover needs; a store answers it from leaf
hashes and the whole-tile hashes it keeps (transparency.selectors).

Proof generation follows the recursive definitions (§2.1.3.1 PATH, §2.1.4.1 SUBPROOF);
verification follows the iterative algorithms of §2.1.3.2 and §2.1.4.2 step by step, so the
two sides are written independently of each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Perfect = Callable[[int, int], bytes]
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)`` (§2.1.1)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (§2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, size: int, perfect: Perfect) -> bytes:
    """MTH(D[start:start+size]) for a range the recursion reaches (``start`` aligned)."""
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return perfect(level, start >> level)
    k = _split(size)
    return node_hash(
        perfect(k.bit_length() - 1, start // k), subtree_hash(start + k, size - k, perfect)
    )


def root_hash(size: int, perfect: Perfect) -> bytes:
    return subtree_hash(0, size, perfect)


def inclusion_proof(index: int, size: int, perfect: Perfect) -> list[bytes]:
    """PATH(index, D[0:size]) (§2.1.3.1), the leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            proof.append(subtree_hash(start + k, n - k, perfect))
            n = k
        else:
            proof.append(subtree_hash(start, k, perfect))
            start, n, m = start + k, n - k, m - k
    proof.reverse()
    return proof


def consistency_proof(old_size: int, new_size: int, perfect: Perfect) -> list[bytes]:
    """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) (§2.1.4.1); empty when m == n."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    proof: list[bytes] = []
    start, m, n, complete = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(subtree_hash(start + k, n - k, perfect))
            n = k
        else:
            proof.append(subtree_hash(start, k, perfect))
            start, m, n, complete = start + k, m - k, n - k, False
    if not complete:
        proof.append(subtree_hash(start, m, perfect))
    proof.reverse()
    return proof


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """§2.1.3.2: does ``proof`` take leaf hash ``leaf`` at ``index`` to ``root`` at ``size``?"""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: does ``proof`` show the tree ``old_root`` is a prefix of ``new_root``?"""
    if not 0 < old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    path = list(proof)
    # Step 2: a perfect old tree is its own first node, which the prover leaves out.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    # Step 4: drop the levels where the old tree's last node is a right child of a perfect one.
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
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def in_memory(leaves: Sequence[bytes]) -> Perfect:
    """A reader over a list of leaf hashes (tests, small trees, an outsider's own check)."""

    def perfect(level: int, index: int) -> bytes:
        if level == 0:
            return leaves[index]
        return node_hash(perfect(level - 1, 2 * index), perfect(level - 1, 2 * index + 1))

    return perfect
