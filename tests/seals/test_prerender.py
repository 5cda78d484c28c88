"""Seal images rendered at write time: the first visitor after a change gets bytes."""

from __future__ import annotations

import pytest

from outbox import core as outbox
from outbox.models import Message
from seals.render import images
from seals.services import seal_revoke, seal_suspend
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db


def owed() -> list[list[str]]:
    """The pre-renders owed, oldest first: each message's seals."""
    messages = Message.objects.filter(topic=images.PRERENDER_TOPIC).order_by("pk")
    return [m.payload["public_ids"] for m in messages]


def _no_render(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rendered on request")

    monkeypatch.setattr(images, "render", refuse)


@pytest.mark.parametrize(
    "size", ["", "?size=small", "?size=large", "?size=medium&scale=2", "?size=small&scale=2"]
)
def test_a_prerendered_image_is_served_without_a_render(client, monkeypatch, size):
    seal = seal_in("active")
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 6  # 3 sizes, 1x and 2x
    images.local_bytes.items.clear()  # as on a web node that never served this seal
    _no_render(monkeypatch)
    response = client.get(f"/s/{seal.public_id}.png{size}")
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


def test_prerendering_twice_renders_nothing_the_second_time():
    seal = seal_in("suspended")
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 6
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 0


def test_the_prerendered_bytes_show_the_status_after_the_change(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from seals import snapshot

    steps: list[str] = []
    monkeypatch.setattr(outbox, "enqueue", lambda name, pk, **options: steps.append("hand-off"))
    invalidate = snapshot.invalidate_seals

    def invalidate_seals(public_ids):
        steps.append("invalidate")
        invalidate(public_ids)

    monkeypatch.setattr(snapshot, "invalidate_seals", invalidate_seals)
    seal = seal_in("active")
    before = client.get(f"/s/{seal.public_id}.png")
    Message.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    assert owed() == [[seal.public_id]]  # written in the change's transaction
    # Handed off after the snapshot was invalidated, so the worker renders the new one.
    assert steps == ["invalidate", "hand-off"]
    assert outbox.drain() == 1
    images.local_bytes.items.clear()
    _no_render(monkeypatch)
    after = client.get(f"/s/{seal.public_id}.png")
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content


def test_repeated_changes_to_one_seal_owe_one_prerender():
    seal = seal_in("active")
    Message.objects.all().delete()
    seal_suspend(seal=seal, reason="check", actor="test")
    seal_revoke(seal=seal, reason="fraud", actor="test")
    assert owed() == [[seal.public_id]]


def test_unknown_seals_are_skipped():
    assert images.seal_images_prerender(public_ids=["A" * 22]) == 0


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_fail_the_committed_change(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox, "enqueue", down)
    seal = seal_in("active")
    revoked = seal_revoke(seal=seal, reason="fraud", actor="test")
    assert revoked.status == "revoked"
    assert seal.public_id in [i for batch in owed() for i in batch]  # kept for the relay


def test_a_status_sweep_owes_its_seals_in_batches(monkeypatch):
    from seals.render.images import prerender_later

    monkeypatch.setattr(images, "PRERENDER_BATCH", 2)
    seals = [seal_in("active") for _ in range(5)]
    Message.objects.all().delete()
    prerender_later(seal.public_id for seal in seals)
    assert [len(batch) for batch in owed()] == [2, 2, 1]
    assert [i for batch in owed() for i in batch] == [s.public_id for s in seals]


def test_a_3x_image_is_not_prerendered_and_renders_on_request(client, monkeypatch):
    seal = seal_in("active")
    images.seal_images_prerender(public_ids=[seal.public_id])
    images.local_bytes.items.clear()
    _no_render(monkeypatch)
    with pytest.raises(AssertionError, match="rendered on request"):
        client.get(f"/s/{seal.public_id}.png?size=medium&scale=3")
