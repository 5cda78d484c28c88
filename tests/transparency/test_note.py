"""C2SP signed notes and checkpoints, against Go's golang.org/x/mod/sumdb/note vector."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transparency import note

# From the documentation and tests of golang.org/x/mod/sumdb/note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
    "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _go_private() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]  # its base64 holds a "+"
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_it_signs_exactly_as_go_does():
    assert note.sign(GO_TEXT, name="PeterNeumann", private_key=_go_private()) == GO_NOTE


def test_its_verifier_key_is_gos():
    public = note.public_bytes(_go_private().public_key())
    assert note.verifier_key("PeterNeumann", public) == GO_VERIFIER


def test_it_opens_gos_note_and_refuses_a_changed_one():
    verifier = note.parse_verifier_key(GO_VERIFIER)
    assert note.open_note(GO_NOTE, verifier) == GO_TEXT
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(GO_NOTE.replace("problem,", "problem;"), verifier)


def test_it_ignores_signatures_by_other_keys_but_needs_one_of_its_own():
    verifier = note.parse_verifier_key(GO_VERIFIER)
    other = Ed25519PrivateKey.generate()
    cosigned = note.sign(GO_TEXT, name="witness.example/w1", private_key=other)
    both = GO_NOTE + cosigned.rsplit("\n\n", 1)[1]
    assert note.open_note(both, verifier) == GO_TEXT
    with pytest.raises(note.NoteError, match="no signature by the log key"):
        note.open_note(cosigned, verifier)


def test_it_refuses_a_verifier_key_whose_id_does_not_match():
    tampered = GO_VERIFIER.replace("c74f20a3", "c74f20a4")
    with pytest.raises(note.NoteError, match="ID does not match"):
        note.parse_verifier_key(tampered)


def test_a_checkpoint_round_trips_and_refuses_malformed_bodies():
    checkpoint = note.Checkpoint("example.com/issuers/acme/log", 42, bytes(range(32)))
    assert note.parse_checkpoint(checkpoint.text()) == checkpoint
    for bad in ("example.com/log\n042\n" + base64.b64encode(bytes(32)).decode() + "\n",
                "example.com/log\n1\nAAAA\n", "example.com/log\n1\n"):  # fmt: skip
        with pytest.raises(note.NoteError):
            note.parse_checkpoint(bad)
