"""A queued import is written in batches, each its own transaction, so other writers are never
locked out of SQLite for long (and a dead worker loses one batch at most)."""

from __future__ import annotations

import pytest

from issuers.models import Member
from outbox import core
from outbox.models import Message
from seals import imports
from seals.chain import verify_chain
from seals.models import Seal
from tests.factories import IssuerFactory
from tests.seals.test_api_imports import csv_bytes, good_rows


@pytest.mark.django_db(transaction=True)  # no test-wide transaction: the batches commit
def test_the_rows_are_written_in_batches_of_their_own_transaction(monkeypatch, settings):
    issuer = IssuerFactory()
    settings.IMPORT_BATCH_ROWS = 3
    monkeypatch.setattr(imports, "ASYNC_THRESHOLD", 2)
    monkeypatch.setattr(imports, "SQLITE_BATCH_GAP", 0)
    monkeypatch.setattr(core, "enqueue", lambda *args, **kwargs: None)
    written, write = [], imports._write

    def counting_write(issuer, plan, *rest):
        written.append((len(plan.rows), Member.objects.filter(issuer=issuer).count()))
        return write(issuer, plan, *rest)

    monkeypatch.setattr(imports, "_write", counting_write)
    job, _ = imports.import_start(issuer=issuer, data=csv_bytes(good_rows(8)), fmt="csv", actor="t")
    message = Message.objects.get(topic=imports.IMPORT_TOPIC)

    assert core.run(message.pk) == "done"

    # Three batches, each seeing the members the ones before it wrote.
    assert written == [(3, 0), (3, 3), (2, 6)]
    job.refresh_from_db()
    assert (job.state, job.created) == ("succeeded", 8)
    assert Seal.objects.filter(issuer=issuer).count() == 8
    assert verify_chain(issuer).ok  # one hash chain across the batches
