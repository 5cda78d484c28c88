"""The log's catch-up: leaves from the chain, safe twice, consistent signed checkpoints."""

from __future__ import annotations

import json

from django.utils import timezone

from seals.chain import record_event, record_events
from seals.models import SealEvent
from seals.services import seal_revoke, seal_suspend
from tests.factories import IssuerFactory, MemberFactory, award
from transparency import merkle, note
from transparency.models import LogCheckpoint, LogLeaf, LogNode
from transparency.selectors import StoredTree
from transparency.services import (
    log_catch_up,
    log_key_active,
    log_verifier_key,
    logs_catch_up,
)


def _history(issuer):
    member = MemberFactory(issuer=issuer, contact_name="Jane Private")
    seal = award(member, actor="alice@issuer.example")
    seal_suspend(seal=seal, reason="Complaint from Jane Doe", actor="alice@issuer.example")
    return seal


def _opened(issuer, checkpoint) -> note.Checkpoint:
    verifier = note.parse_verifier_key(log_verifier_key(log_key_active(issuer)))
    return note.parse_checkpoint(note.open_note(checkpoint.note, verifier))


def test_each_event_becomes_a_public_leaf_without_personal_data(issuer):
    seal = _history(issuer)
    record_event(
        seal=seal, kind=SealEvent.Kind.DETAILS_CHANGED, actor="alice", data={"fields": ["name"]}
    )
    log_catch_up(issuer_id=issuer.pk)
    events = list(SealEvent.objects.filter(issuer=issuer).order_by("seq"))
    leaves = list(LogLeaf.objects.filter(issuer=issuer).order_by("index"))
    assert [leaf.index for leaf in leaves] == [e.seq - 1 for e in events]
    bodies = [json.loads(bytes(leaf.data)) for leaf in leaves]
    assert [b["kind"] for b in bodies] == [e.kind for e in events]
    assert [b["chain_hash"] for b in bodies] == [e.hash for e in events]
    # The status after each event; details_changed carries the status before it.
    assert [b["status"] for b in bodies] == ["active", "suspended", "suspended"]
    assert {b["seal"] for b in bodies} == {seal.public_id}
    assert bodies[0]["programme"] == seal.programme.slug
    raw = b"".join(bytes(leaf.data) for leaf in leaves)
    for secret in (b"Jane", b"alice", b"Complaint", b"private", b"actor"):
        assert secret not in raw
    assert all(bytes(leaf.hash) == merkle.leaf_hash(bytes(leaf.data)) for leaf in leaves)


def test_the_checkpoint_is_signed_and_commits_to_the_leaves(issuer):
    _history(issuer)
    checkpoint = log_catch_up(issuer_id=issuer.pk)
    opened = _opened(issuer, checkpoint)
    hashes = [
        bytes(h)
        for h in LogLeaf.objects.filter(issuer=issuer)
        .order_by("index")
        .values_list("hash", flat=True)
    ]
    assert opened.size == len(hashes) == 2
    assert (
        opened.root == merkle.root_hash(2, merkle.in_memory(hashes)) == bytes(checkpoint.root_hash)
    )
    assert opened.origin == f"127.0.0.1:8000/issuers/{issuer.slug}/log"


def test_catching_up_twice_signs_nothing_new(issuer):
    _history(issuer)
    first = log_catch_up(issuer_id=issuer.pk)
    again = log_catch_up(issuer_id=issuer.pk)
    assert again.pk == first.pk
    assert LogCheckpoint.objects.filter(issuer=issuer).count() == 1
    assert LogLeaf.objects.filter(issuer=issuer).count() == 2


def test_a_later_checkpoint_is_consistent_with_the_earlier_one(issuer):
    seal = _history(issuer)
    first = log_catch_up(issuer_id=issuer.pk)
    seal_revoke(seal=seal, reason="Upheld", actor="bob")
    second = log_catch_up(issuer_id=issuer.pk)
    old, new = _opened(issuer, first), _opened(issuer, second)
    assert (old.size, new.size) == (2, 3)
    proof = merkle.consistency_proof(2, 3, StoredTree(issuer.pk).perfect)
    assert merkle.verify_consistency(2, 3, old.root, new.root, proof)


def test_an_issuer_without_events_gets_an_empty_signed_log(issuer):
    checkpoint = log_catch_up(issuer_id=issuer.pk)
    assert _opened(issuer, checkpoint).size == 0
    assert bytes(checkpoint.root_hash) == merkle.EMPTY_ROOT


def test_big_histories_store_tile_hashes_across_batches(issuer):
    seal = award(MemberFactory(issuer=issuer))
    entries = [(seal, SealEvent.Kind.DETAILS_CHANGED, {"fields": ["name"]})] * 599
    record_events(issuer_id=issuer.pk, entries=entries, actor="import", at=timezone.now())
    checkpoint = log_catch_up(issuer_id=issuer.pk, batch=150)
    assert checkpoint.size == 600
    assert list(LogNode.objects.filter(issuer=issuer).values_list("level", "index")) == [
        (8, 0),
        (8, 1),
    ]
    hashes = [
        bytes(h)
        for h in LogLeaf.objects.filter(issuer=issuer)
        .order_by("index")
        .values_list("hash", flat=True)
    ]
    reference = merkle.in_memory(hashes)
    assert bytes(checkpoint.root_hash) == merkle.root_hash(600, reference)
    stored = StoredTree(issuer.pk)
    assert stored.perfect(8, 1) == reference(8, 1)
    # Every checkpoint signed on the way is a prefix of the last one.
    sizes = sorted(LogCheckpoint.objects.filter(issuer=issuer).values_list("size", flat=True))
    assert sizes == [150, 300, 450, 600]
    for size in sizes[:-1]:
        proof = merkle.consistency_proof(size, 600, stored.perfect)
        old = bytes(LogCheckpoint.objects.get(issuer=issuer, size=size).root_hash)
        assert merkle.verify_consistency(size, 600, old, bytes(checkpoint.root_hash), proof)


def test_the_beat_job_catches_up_only_the_issuers_behind(issuer):
    _history(issuer)
    other = IssuerFactory()
    assert logs_catch_up() == 2  # both: the second has no checkpoint yet
    assert logs_catch_up() == 0
    _history(other)
    assert logs_catch_up() == 1
    assert LogCheckpoint.objects.filter(issuer=other).order_by("-size").first().size == 2
