from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import InvalidInputError
from seals.models import Seal, SealStatus
from seals.services import (
    SealStateError,
    seal_award,
    seal_reinstate,
    seal_renew,
    seal_revoke,
    seal_suspend,
)
from tests.factories import MemberFactory, award


@pytest.fixture
def member(db):
    return MemberFactory()


def test_seal_ids_are_128_bit_url_safe_and_unique(member):
    ids = {award(member).public_id for _ in range(50)}
    assert len(ids) == 50
    for public_id in ids:
        assert len(public_id) == 22 and all(c.isalnum() or c in "-_" for c in public_id)


def test_award_defaults_to_the_programme_validity(member):
    seal = seal_award(member=member, programme=member.issuer.programmes.get(), actor="t")
    assert seal.status == SealStatus.ACTIVE
    assert (seal.expires_at - seal.valid_from) == timedelta(days=365)
    assert seal.version == 1 and seal.events.count() == 1


def test_a_future_award_is_pending(member):
    assert award(member, start_days=3).status == SealStatus.PENDING


def test_award_refuses_an_inverted_window(member):
    now = timezone.now()
    with pytest.raises(InvalidInputError, match="after valid_from"):
        seal_award(
            member=member,
            programme=member.issuer.programmes.get(),
            actor="t",
            valid_from=now,
            expires_at=now - timedelta(seconds=1),
        )
    assert not Seal.objects.exists()


def test_suspend_and_reinstate_bump_the_version_and_record_events(member):
    seal = award(member)
    seal = seal_suspend(seal=seal, reason="audit", actor="t")
    assert seal.status == SealStatus.SUSPENDED and seal.version == 2
    seal = seal_reinstate(seal=seal, reason="cleared", actor="t")
    assert seal.status == SealStatus.ACTIVE and seal.version == 3
    assert list(seal.events.values_list("kind", flat=True)) == ["issued", "suspended", "reinstated"]


def test_revocation_is_final(member):
    seal = seal_revoke(seal=award(member), reason="fraud", actor="t")
    for action in (
        lambda: seal_revoke(seal=seal, reason="again", actor="t"),
        lambda: seal_suspend(seal=seal, reason="x", actor="t"),
        lambda: seal_reinstate(seal=seal, reason="x", actor="t"),
        lambda: seal_renew(
            seal=seal, expires_at=timezone.now() + timedelta(days=9), reason="x", actor="t"
        ),
    ):
        with pytest.raises(SealStateError):
            action()
    seal.refresh_from_db()
    assert seal.status == SealStatus.REVOKED and seal.events.count() == 2


def test_reinstate_needs_a_suspended_seal(member):
    with pytest.raises(SealStateError, match="suspended"):
        seal_reinstate(seal=award(member), reason="x", actor="t")


def test_renewal_brings_an_expired_seal_back(member):
    seal = award(member, start_days=-400, days=390)
    new_expiry = timezone.now() + timedelta(days=365)
    seal = seal_renew(seal=seal, expires_at=new_expiry, reason="paid", actor="t")
    assert seal.status == SealStatus.ACTIVE and seal.expires_at == new_expiry
    assert seal.events.last().kind == "renewed"


def test_renewal_keeps_a_suspension(member):
    seal = seal_suspend(seal=award(member), reason="audit", actor="t")
    seal = seal_renew(
        seal=seal, expires_at=timezone.now() + timedelta(days=30), reason="", actor="t"
    )
    assert seal.status == SealStatus.SUSPENDED


def test_renewal_refuses_a_past_expiry(member):
    seal = award(member)
    with pytest.raises(InvalidInputError, match="future") as refused:
        seal_renew(seal=seal, expires_at=timezone.now() - timedelta(days=1), reason="", actor="t")
    assert refused.value.field == "expires_at"
    seal.refresh_from_db()
    assert seal.version == 1
