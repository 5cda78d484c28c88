"""The member's export as CSV files in a ZIP: every table of the JSON, flat, safe to open in a
spreadsheet, in UTF-8 a spreadsheet reads as such."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from privacy import services as privacy
from privacy.export_csv import export_tables, export_zip
from seals.services import seal_suspend
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_table_of_the_export_is_a_csv_file(issuer):
    member = MemberFactory(
        issuer=issuer, display_name="=HYPERLINK(1)", domains=["a.example", "b.example"]
    )
    seal = award(member)
    seal_suspend(seal=seal, reason="Unpaid dues", actor="staff:1")
    document = privacy.member_export(member)
    tables = export_tables(document)

    assert {"about.csv", "member.csv", "seals.csv", "seal_events.csv", "data_requests.csv"} <= set(
        tables
    )
    assert {"statistics_daily.csv", "statistics_monthly.csv", "announcements.csv"} <= set(tables)
    (about,) = _rows(tables["about.csv"])
    assert about["format"] == document["format"] and about["issuer_slug"] == issuer.slug
    (row,) = _rows(tables["member.csv"])
    # Nested objects become columns, lists JSON text, a formula a quoted string.
    assert row["contact_email"] == member.contact_email
    assert json.loads(row["domains"]) == ["a.example", "b.example"]
    assert row["display_name"] == "'=HYPERLINK(1)"
    (seal_row,) = _rows(tables["seals.csv"])
    assert seal_row["id"] == seal.public_id and seal_row["status"] == "suspended"
    assert "events" not in seal_row and seal_row["programme_slug"] == seal.programme.slug
    events = _rows(tables["seal_events.csv"])
    assert [e["kind"] for e in events] == [e["kind"] for e in document["seals"][0]["events"]]
    assert {e["seal"] for e in events} == {seal.public_id}
    assert tables["announcements.csv"] == ""  # nothing held of that kind


def test_the_zip_holds_the_tables_with_a_byte_order_mark(issuer):
    member = MemberFactory(issuer=issuer, display_name="Café Zürich")
    award(member)
    document = privacy.member_export(member)
    with zipfile.ZipFile(io.BytesIO(export_zip(document))) as archive:
        assert set(archive.namelist()) == set(export_tables(document))
        raw = archive.read("member.csv")
    assert raw.startswith("\ufeff".encode())
    assert _rows(raw.decode("utf-8-sig"))[0]["display_name"] == "Café Zürich"
