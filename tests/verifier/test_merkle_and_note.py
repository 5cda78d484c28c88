"""The verifier's own RFC 9162 and signed-note code, checked against the log's (two
implementations written apart must agree), and against forgeries."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from transparency import merkle as server_merkle
from transparency import note as server_note
from trustseal_verify import merkle, note


def _leaves(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_of_the_log_verify_here_and_a_changed_leaf_does_not(case):
    size, index = case
    leaves = _leaves(size)
    perfect = server_merkle.in_memory([server_merkle.leaf_hash(x) for x in leaves])
    root = server_merkle.root_hash(size, perfect)
    proof = server_merkle.inclusion_proof(index, size, perfect)

    assert merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"other"), proof, root)
    assert merkle.root_from_hashes([merkle.leaf_hash(x) for x in leaves]) == root
    if proof:
        assert not merkle.verify_inclusion(
            index, size, merkle.leaf_hash(leaves[index]), proof[:-1], root
        )


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_of_the_log_verify_here_and_not_against_another_history(case):
    old, new = case
    leaves = _leaves(new)
    perfect = server_merkle.in_memory([server_merkle.leaf_hash(x) for x in leaves])
    old_root = server_merkle.root_hash(old, perfect)
    new_root = server_merkle.root_hash(new, perfect)
    proof = server_merkle.consistency_proof(old, new, perfect)

    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    rewritten = [b"rewritten", *leaves[1:old]]
    other_root = merkle.root_from_hashes([merkle.leaf_hash(x) for x in rewritten])
    assert not merkle.verify_consistency(old, new, other_root, new_root, proof)


def test_a_larger_tree_always_needs_a_consistency_proof():
    root = hashlib.sha256(b"x").digest()
    assert not merkle.verify_consistency(4, 8, root, root, [])


def test_a_checkpoint_signed_by_the_log_opens_here_and_a_forged_one_does_not():
    private = Ed25519PrivateKey.generate()
    name = "seals.example/issuers/guild/log"
    vkey = server_note.verifier_key(name, server_note.public_bytes(private.public_key()))
    text = server_note.Checkpoint(name, 7, bytes(32)).text()
    signed = server_note.sign(text, name=name, private_key=private)

    key = note.parse_verifier_key(vkey)
    assert note.open_checkpoint(signed, key) == note.Checkpoint(name, 7, bytes(32))
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_checkpoint(signed.replace("\n7\n", "\n8\n"), key)
    stranger = server_note.sign(text, name=name, private_key=Ed25519PrivateKey.generate())
    with pytest.raises(note.NoteError):
        note.open_checkpoint(stranger, key)


def test_a_cosignature_covers_the_checkpoint_and_its_time():
    log_key, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    name = "seals.example/issuers/guild/log"
    signed = server_note.sign(
        server_note.Checkpoint(name, 3, bytes(32)).text(), name=name, private_key=log_key
    )
    cosigned = note.cosign(signed, name="w.example", private_key=witness, timestamp=1_700_000_000)
    wkey = note.witness_verifier_key("w.example", witness)

    assert note.cosignature_verifies(cosigned, wkey)
    assert not note.cosignature_verifies(cosigned.replace("\n3\n", "\n4\n"), wkey)
    assert not note.cosignature_verifies(signed, wkey)
    # The log's own verifier still reads the note: unknown signatures are skipped.
    server_key = server_note.parse_verifier_key(
        server_note.verifier_key(name, server_note.public_bytes(log_key.public_key()))
    )
    assert server_note.open_note(cosigned, server_key)
