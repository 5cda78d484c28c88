"""On SQLite an import is written in batches, so other writers are never locked out for long."""

from __future__ import annotations

import pytest
from django.db import connection

from issuers.models import ImportJob, Member
from seals import imports
from seals.chain import verify_chain
from seals.models import Seal
from tests.factories import IssuerFactory


def _rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "external_ref": f"B-{i:04d}",
            "legal_name": f"Batch Member {i} Ltd",
            "domains": f"b{i}.example",
            "country": "GB",
            "contact_email": f"c{i}@b{i}.example",
            "expires_at": "2030-01-31",
        }
        for i in range(n)
    ]


@pytest.mark.django_db(transaction=True)  # no test-wide transaction: the batches commit
def test_the_rows_are_written_in_batches_of_their_own_transaction_on_sqlite(monkeypatch):
    issuer = IssuerFactory()
    monkeypatch.setattr(imports, "SQLITE_WRITE_BATCH", 3)
    monkeypatch.setattr(imports, "SQLITE_WRITE_PAUSE", 0)
    written, write = [], imports._write

    def counting_write(issuer, rows, *args):
        written.append(len(rows))
        return write(issuer, rows, *args)

    monkeypatch.setattr(imports, "_write", counting_write)
    report = imports.import_rows(
        issuer=issuer, rows=_rows(8), mode=ImportJob.Mode.ALL_OR_NOTHING, actor="test"
    )
    assert report.written and report.created == 8
    assert written == ([3, 3, 2] if connection.vendor == "sqlite" else [8])
    assert Member.objects.filter(issuer=issuer).count() == 8
    assert Seal.objects.filter(issuer=issuer).count() == 8
    assert verify_chain(issuer).ok  # one hash chain across the batches
