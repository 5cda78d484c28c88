"""``SealSnapshot.status_at``: the status a visitor sees at an instant is the one rule's
(``seals.status.effective_status``), to the microsecond at every boundary, and
``next_change`` names exactly the instant it flips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seals.models import Seal, SealStatus
from seals.status import effective_status
from tests.seals.snapshots import T0, T1, snapshot_with

US = timedelta(microseconds=1)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0 - US, SealStatus.PENDING),
        (T0, SealStatus.ACTIVE),
        (T0 + US, SealStatus.ACTIVE),
        (T1 - US, SealStatus.ACTIVE),
        (T1, SealStatus.EXPIRED),
        (T1 + US, SealStatus.EXPIRED),
    ],
)
@pytest.mark.parametrize("stored", [SealStatus.PENDING, SealStatus.ACTIVE])
def test_an_active_or_pending_seal_follows_its_dates_to_the_microsecond(stored, now, expected):
    assert snapshot_with(status=stored).status_at(now) == expected


@pytest.mark.parametrize("stored", [SealStatus.REVOKED, SealStatus.SUSPENDED, SealStatus.EXPIRED])
@pytest.mark.parametrize("now", [T0 - US, T0, T1 - US, T1, T1 + US])
def test_a_revoked_suspended_or_expired_seal_shows_that_at_any_instant(stored, now):
    assert snapshot_with(status=stored).status_at(now) == stored


def test_a_seal_without_an_end_stays_active():
    snap = snapshot_with(expires_at=None)
    assert snap.status_at(T1 + timedelta(days=3650)) == SealStatus.ACTIVE
    assert snap.next_change(T1) is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [(T0 - US, T0), (T0, T1), (T1 - US, T1), (T1, None)],
)
def test_the_next_change_is_the_next_boundary_ahead(now, expected):
    assert snapshot_with().next_change(now) == expected


@pytest.mark.parametrize("stored", [SealStatus.REVOKED, SealStatus.SUSPENDED])
def test_a_revoked_or_suspended_seal_has_no_scheduled_change(stored):
    assert snapshot_with(status=stored).next_change(T0 - US) is None


# --- properties -----------------------------------------------------------------------------
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=US, max_value=timedelta(days=40_000))


@st.composite
def snapshots(draw: st.DrawFn):
    # Every service refuses an end at or before the start (seals.services), so none is drawn.
    valid_from = draw(moments)
    length = draw(st.none() | durations)
    return snapshot_with(
        status=draw(st.sampled_from(list(SealStatus))),
        valid_from=valid_from,
        expires_at=None if length is None else valid_from + length,
    )


@FAST
@given(snapshots(), moments)
def test_it_answers_what_the_one_status_rule_answers_for_the_record(snap, now):
    record = Seal(status=snap.status, valid_from=snap.valid_from, expires_at=snap.expires_at)
    assert snap.status_at(now) == effective_status(record, now)


@FAST
@given(snapshots(), moments, durations)
def test_the_status_holds_until_the_next_change_and_flips_there(snap, now, later):
    status, change = snap.status_at(now), snap.next_change(now)
    if change is None:
        assert snap.status_at(now + later) == status
        return
    assert change > now
    assert snap.status_at(min(now + later, change) - US) == status
    assert snap.status_at(change - US) == status
    assert snap.status_at(change) != status
