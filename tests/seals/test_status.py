"""effective_status is the single source of truth; every boundary is tested with time travel."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from seals.models import Seal, SealStatus
from seals.status import effective_status, next_change_at

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


def seal(status=SealStatus.ACTIVE, valid_from=T0, expires_at=T1) -> Seal:
    return Seal(status=status, valid_from=valid_from, expires_at=expires_at)


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
def test_it_follows_the_validity_window_to_the_microsecond(now, expected):
    with time_machine.travel(now, tick=False):
        assert effective_status(seal(), datetime.now(UTC)) == expected


@pytest.mark.parametrize("stored", [SealStatus.PENDING, SealStatus.ACTIVE])
def test_a_stored_pending_or_active_seal_is_judged_by_its_dates(stored):
    s = seal(status=stored)
    assert effective_status(s, T0 - US) == SealStatus.PENDING
    assert effective_status(s, T0) == SealStatus.ACTIVE
    assert effective_status(s, T1) == SealStatus.EXPIRED


@pytest.mark.parametrize("now", [T0 - US, T0, T1 - US, T1, T1 + US])
def test_revoked_beats_everything(now):
    assert effective_status(seal(status=SealStatus.REVOKED), now) == SealStatus.REVOKED


@pytest.mark.parametrize("now", [T0 - US, T0, T1 - US, T1, T1 + US])
def test_suspended_beats_expired_and_pending(now):
    assert effective_status(seal(status=SealStatus.SUSPENDED), now) == SealStatus.SUSPENDED


def test_expired_beats_pending_when_stored_expired():
    assert effective_status(seal(status=SealStatus.EXPIRED), T0 - US) == SealStatus.EXPIRED


def test_a_seal_without_expiry_stays_active():
    assert effective_status(seal(expires_at=None), T1 + timedelta(days=3650)) == SealStatus.ACTIVE


def test_next_change_is_the_next_boundary():
    s = seal()
    assert next_change_at(s, T0 - US) == T0
    assert next_change_at(s, T0) == T1
    assert next_change_at(s, T1) is None
    assert next_change_at(seal(status=SealStatus.REVOKED), T0) is None
