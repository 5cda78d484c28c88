"""Catch-ups racing each other and the chain's writers (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django_scopes import scopes_disabled

from seals.chain import record_event
from seals.models import SealEvent
from tests.factories import IssuerFactory, MemberFactory, award
from transparency import merkle
from transparency.models import LogCheckpoint, LogLeaf
from transparency.selectors import StoredTree
from transparency.services import log_catch_up


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_catch_ups_and_writers_sign_each_size_once_and_stay_consistent():
    issuer = IssuerFactory()
    seals = [award(MemberFactory(issuer=issuer)) for _ in range(3)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def write(seal) -> None:
        try:
            barrier.wait()
            for i in range(20):
                record_event(
                    seal=seal, kind=SealEvent.Kind.DETAILS_CHANGED, actor="t", data={"n": i}
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def catch_up() -> None:
        try:
            barrier.wait()
            with scopes_disabled():
                for _ in range(10):
                    log_catch_up(issuer_id=issuer.pk, batch=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(s,)) for s in seals]
    threads += [threading.Thread(target=catch_up) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = log_catch_up(issuer_id=issuer.pk)
    assert final.size == 63
    assert LogLeaf.objects.filter(issuer=issuer).count() == 63
    tree = StoredTree(issuer.pk)
    checkpoints = list(LogCheckpoint.objects.filter(issuer=issuer).order_by("size"))
    sizes = [c.size for c in checkpoints]
    assert sizes == sorted(set(sizes))  # never two for one size
    for checkpoint in checkpoints:
        assert bytes(checkpoint.root_hash) == merkle.root_hash(checkpoint.size, tree.perfect)
        if 0 < checkpoint.size < final.size:
            proof = merkle.consistency_proof(checkpoint.size, final.size, tree.perfect)
            assert merkle.verify_consistency(
                checkpoint.size,
                final.size,
                bytes(checkpoint.root_hash),
                bytes(final.root_hash),
                proof,
            )
