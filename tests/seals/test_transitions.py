"""The status sweep: set-based, idempotent, catches up, one chained event per transition."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from effects.webhooks import webhook_endpoint_create
from issuers.models import WebhookDelivery
from seals.chain import verify_chain
from seals.models import Seal, SealEvent, SealStatus
from seals.transitions import seals_refresh_status
from tests.factories import MemberFactory, award


@pytest.fixture
def member(db):
    return MemberFactory()


def test_it_activates_pending_seals_and_expires_active_ones_at_their_moment(member):
    pending = award(member, start_days=1, days=10)
    expiring = award(member, days=2)
    later = award(member, days=30)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        result = seals_refresh_status(now=timezone.now())
    assert (result.activated, result.expired) == (1, 1)
    pending.refresh_from_db()
    expiring.refresh_from_db()
    later.refresh_from_db()
    assert pending.status == SealStatus.ACTIVE and pending.version == 2
    assert expiring.status == SealStatus.EXPIRED and expiring.version == 2
    assert later.status == SealStatus.ACTIVE and later.version == 1
    kinds = list(expiring.events.values_list("kind", flat=True))
    assert kinds == [SealEvent.Kind.ISSUED, SealEvent.Kind.EXPIRED]
    expired_event = expiring.events.last()
    assert expired_event.data["effective_at"] == expiring.expires_at.isoformat()
    assert verify_chain(member.issuer).ok


def test_it_is_idempotent(member):
    award(member, days=1)
    now = timezone.now() + timedelta(days=2)
    assert seals_refresh_status(now=now).expired == 1
    assert seals_refresh_status(now=now).expired == 0
    assert SealEvent.objects.filter(kind=SealEvent.Kind.EXPIRED).count() == 1


def test_it_catches_up_a_whole_validity_missed_during_downtime_in_one_run(member):
    seal = award(member, start_days=1, days=2)
    result = seals_refresh_status(now=timezone.now() + timedelta(days=10), batch_size=1)
    seal.refresh_from_db()
    assert (result.activated, result.expired) == (1, 1)
    assert seal.status == SealStatus.EXPIRED and seal.version == 3
    kinds = list(seal.events.values_list("kind", flat=True))
    assert kinds == [SealEvent.Kind.ISSUED, SealEvent.Kind.ACTIVATED, SealEvent.Kind.EXPIRED]
    assert verify_chain(member.issuer).ok


def test_it_processes_more_seals_than_one_batch(member):
    for _ in range(5):
        award(member, days=1)
    result = seals_refresh_status(now=timezone.now() + timedelta(days=2), batch_size=2)
    assert result.expired == 5
    assert not Seal.objects.filter(status=SealStatus.ACTIVE).exists()


def test_it_leaves_suspended_and_revoked_seals_alone(member):
    from seals.services import seal_revoke, seal_suspend

    seal_suspend(seal=award(member, days=1), reason="r", actor="t")
    seal_revoke(seal=award(member, days=1), reason="r", actor="t")
    assert seals_refresh_status(now=timezone.now() + timedelta(days=2)).expired == 0


def test_it_queues_a_seal_expired_webhook_per_expiry(member):
    webhook_endpoint_create(
        issuer=member.issuer, url="https://hooks.example/x", event_types=["seal.expired"]
    )
    seal = award(member, days=1)
    seals_refresh_status(now=timezone.now() + timedelta(days=2))
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "seal.expired"
    assert delivery.payload["data"]["seal"] == seal.public_id
    assert delivery.payload["data"]["status"] == "expired"


def test_it_runs_the_after_change_effects_for_the_changed_seals_after_commit(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    monkeypatch.setattr(
        "seals.services.after_seals_change", lambda seals: seen.extend(s.pk for s in seals)
    )
    seal = award(member, days=1)
    award(member, days=5)
    with django_capture_on_commit_callbacks(execute=True):
        seals_refresh_status(now=timezone.now() + timedelta(days=2))
    assert seen == [seal.pk]


def test_an_expiry_makes_the_cached_public_image_stale(member, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from seals.snapshot import _gen_key

    seal = award(member, days=1)
    cache.set(_gen_key(seal.public_id), "before")
    with django_capture_on_commit_callbacks(execute=True):
        seals_refresh_status(now=timezone.now() + timedelta(days=2))
    assert cache.get(_gen_key(seal.public_id)) != "before"
