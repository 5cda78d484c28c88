"""Seal images rendered at write time: the first visitor after a change gets bytes."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from seals.render import images
from seals.services import seal_revoke
from tests.seals.public_helpers import seal_in
from workers import render_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(render_tasks.seal_images_prerender_task, "delay", calls.append)
    return calls


def _no_render(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rendered on request")

    monkeypatch.setattr(images, "render", refuse)


@pytest.mark.parametrize("size", ["", "?size=small", "?size=large"])
def test_a_prerendered_image_is_served_without_a_render(client, monkeypatch, size):
    seal = seal_in("active")
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 3
    images.local_bytes.items.clear()  # as on a web node that never served this seal
    _no_render(monkeypatch)
    response = client.get(f"/s/{seal.public_id}.png{size}")
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


def test_prerendering_twice_renders_nothing_the_second_time():
    seal = seal_in("suspended")
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 3
    assert images.seal_images_prerender(public_ids=[seal.public_id]) == 0


def test_the_prerendered_bytes_show_the_status_after_the_change(
    client, monkeypatch, queued, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    before = client.get(f"/s/{seal.public_id}.png")
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    assert queued == [[seal.public_id]]
    assert render_tasks.seal_images_prerender_task(queued[0]) == 3
    images.local_bytes.items.clear()
    _no_render(monkeypatch)
    after = client.get(f"/s/{seal.public_id}.png")
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content


def test_unknown_seals_are_skipped():
    assert images.seal_images_prerender(public_ids=["A" * 22]) == 0


def test_a_broker_outage_does_not_fail_the_committed_change(
    monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(render_tasks.seal_images_prerender_task, "delay", down)
    seal = seal_in("active")
    with django_capture_on_commit_callbacks(execute=True):
        revoked = seal_revoke(seal=seal, reason="fraud", actor="test")
    assert revoked.status == "revoked"


def test_a_status_sweep_queues_its_seals_in_batches(monkeypatch, queued):
    from seals.services import after_seals_change

    monkeypatch.setattr(images, "PRERENDER_BATCH", 2)
    seals = [seal_in("active") for _ in range(5)]
    cache.clear()
    after_seals_change(seals)
    assert [len(batch) for batch in queued] == [2, 2, 1]
    assert [i for batch in queued for i in batch] == [s.public_id for s in seals]
