"""Properties of the parsers that take hostile input and of the one status rule.

Hypothesis generates the inputs: any text as a domain, any bytes as a CSV file, any cells as an
import row, any text and any moment as a date, any seal record and instant for
``effective_status``. Parsers either answer or refuse with their own error; nothing else.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains as hostnames

from issuers.domains import host_matches, normalise_domain
from seals.imports import (
    COLUMNS,
    ImportFileError,
    ImportReport,
    _check_row,
    _moment,
    import_read,
    import_source,
)
from seals.models import Seal, SealStatus
from seals.status import effective_status, next_change_at

UTC_ZONE = ZoneInfo("UTC")  # an issuer's default time zone

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-.")

# --- domains --------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=300))
def test_a_domain_is_normalised_or_refused_never_anything_else(value):
    try:
        host = normalise_domain(value)
    except ValidationError:
        return
    assert host == host.lower() and set(host) <= _LABEL_CHARS
    assert len(host) <= 253 and "." in host
    assert normalise_domain(host) == host  # idempotent


@FAST
@given(hostnames())
def test_a_valid_hostname_survives_unchanged_but_for_case(host):
    assume(not host.split(".")[-1].isdigit())
    assert normalise_domain(host) == host.lower().rstrip(".")


@FAST
@given(hostnames(), st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True))
def test_a_lookalike_host_never_matches_a_members_domain(domain, prefix):
    domain = domain.lower()
    assume(not domain.split(".")[-1].isdigit())
    assert host_matches(domain, [domain])
    assert host_matches(f"{prefix}.{domain}", [domain])
    assert not host_matches(f"{prefix}{domain}", [domain])  # evilexample.com
    assert not host_matches(f"{domain}.{prefix}-evil.example", [domain])


@FAST
@given(st.text(max_size=100), st.lists(st.text(max_size=30), max_size=3))
def test_host_matching_never_raises(host, domains):
    assert host_matches(host, domains) in (True, False)


# --- CSV rows -------------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_are_rows_or_a_file_error(data):
    try:
        rows = list(import_read(source=import_source(data), fmt="csv"))
    except ImportFileError:
        return
    assert all(isinstance(row, dict) for row in rows)
    assert all(set(row) <= set(COLUMNS) | {"__extra__"} for row in rows)


_cell = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@FAST
@given(st.lists(st.tuples(_cell, _cell, _cell), min_size=1, max_size=20))
def test_csv_cells_round_trip_through_the_parser(cells):
    rows = [c for c in cells if any(v.strip() for v in c)]
    assume(rows)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["external_ref", "legal_name", "domains"])
    writer.writerows(rows)
    parsed = list(import_read(source=import_source(out.getvalue().encode()), fmt="csv"))
    assert [(r["external_ref"], r["legal_name"], r["domains"]) for r in parsed] == rows


@FAST
@given(st.dictionaries(st.sampled_from(COLUMNS), st.one_of(_cell, st.none()), max_size=12))
def test_a_row_is_accepted_or_refused_with_field_errors_never_raised(raw):
    report = ImportReport()
    programme = object()
    row = _check_row(2, raw, {"gold": programme}, programme, UTC_ZONE, report)
    if row is None:
        assert report.failed == 1 and report.errors
        assert all(e["row"] == 2 and e["message"] for e in report.errors)
    else:
        assert row.values["external_ref"] and row.values["legal_name"]
        assert len(row.values["legal_name"]) <= 300


# --- dates ----------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=60))
@example("31/01/2027")
@example("2027-02-30")
def test_any_text_is_a_moment_none_or_a_clear_value_error(value):
    try:
        moment = _moment(value, UTC_ZONE, end=True)
    except ValueError as exc:
        # Ours names the format; Python's own (a field out of range, "day is out of range for
        # month") only for text already shaped like a date, which says what is wrong with it.
        assert (
            "ISO 8601" in str(exc)
            or "outside the years" in str(exc)
            or re.match(r"\d{4}-\d{1,2}-\d{1,2}", value.strip())
        ), exc
        return
    assert moment is None or moment.tzinfo is not None


@FAST
@given(st.datetimes(timezones=st.timezones(), allow_imaginary=False))
def test_an_iso_date_time_round_trips_to_the_same_instant(moment):
    # Compared as instants: Python never calls a fold=1 (repeated hour) datetime equal to one
    # in another zone, even at the same instant.
    assert _moment(moment.isoformat(), UTC_ZONE, end=True).timestamp() == moment.timestamp()


@FAST
@given(st.dates(min_value=date(2, 1, 1), max_value=date(9998, 12, 31)), st.timezone_keys())
def test_a_bare_date_is_that_whole_day_in_the_issuers_zone(day, key):
    zone = ZoneInfo(key)
    starts, ends = (
        _moment(day.isoformat(), zone, end=False),
        _moment(day.isoformat(), zone, end=True),
    )
    assert starts == datetime(day.year, day.month, day.day, tzinfo=zone)
    assert ends == datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


@FAST
@given(st.sampled_from([date.min, date.max, date(1, 6, 1), date(9999, 1, 1)]))
def test_a_date_at_the_ends_of_the_calendar_is_a_clear_value_error(day):
    with pytest.raises(ValueError, match="outside the years"):
        _moment(day.isoformat(), UTC_ZONE, end=True)


@FAST
@given(st.datetimes())
def test_a_naive_date_time_is_utc(moment):
    assert _moment(moment.isoformat(), UTC_ZONE, end=True) == moment.replace(tzinfo=UTC)


# --- effective_status -----------------------------------------------------------------------

_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_RANK = {SealStatus.PENDING: 0, SealStatus.ACTIVE: 1, SealStatus.EXPIRED: 2}


@st.composite
def seals(draw) -> Seal:
    valid_from = draw(_moments)
    expires_at = draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=3650)))
    return Seal(
        status=draw(st.sampled_from(SealStatus.values)),
        valid_from=valid_from,
        expires_at=None if expires_at is None else valid_from + expires_at,
    )


@FAST
@given(seals(), _moments)
def test_stored_revocation_and_suspension_win_over_every_date(seal, now):
    status = effective_status(seal, now)
    if seal.status == SealStatus.REVOKED:
        assert status == SealStatus.REVOKED
    elif seal.status == SealStatus.SUSPENDED:
        assert status == SealStatus.SUSPENDED
    elif seal.status == SealStatus.EXPIRED or (seal.expires_at and now >= seal.expires_at):
        assert status == SealStatus.EXPIRED
    elif now < seal.valid_from:
        assert status == SealStatus.PENDING
    else:
        assert status == SealStatus.ACTIVE


@FAST
@given(seals(), _moments, st.timedeltas(timedelta(0), timedelta(days=4000)))
def test_time_only_moves_a_seal_forward(seal, now, later):
    """pending → active → expired, never back; revoked and suspended never change by time."""
    before, after = effective_status(seal, now), effective_status(seal, now + later)
    if before in _RANK:
        assert _RANK[before] <= _RANK[after], (before, after)
    else:
        assert after == before


@FAST
@given(seals(), _moments)
def test_the_status_holds_until_next_change_at_and_changes_there(seal, now):
    status = effective_status(seal, now)
    change = next_change_at(seal, now)
    if change is None:
        assert effective_status(seal, datetime(9999, 1, 1, tzinfo=UTC)) == status
        return
    assert change > now
    assert effective_status(seal, change - timedelta(microseconds=1)) == status
    assert effective_status(seal, change) != status


def test_the_boundaries_are_half_open():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    seal = Seal(status=SealStatus.ACTIVE, valid_from=start, expires_at=start + timedelta(days=1))
    assert effective_status(seal, start - timedelta(microseconds=1)) == SealStatus.PENDING
    assert effective_status(seal, start) == SealStatus.ACTIVE
    assert effective_status(seal, start + timedelta(days=1)) == SealStatus.EXPIRED
