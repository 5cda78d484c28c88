"""Verification pages kept rendered: every answer is still the whole truth at its moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine

from seals import page_cache, snapshot
from seals.registry import member_update
from seals.services import seal_suspend
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def page(client, seal, **headers) -> str:
    response = client.get(f"/verify/{seal.public_id}", **headers)
    assert response.status_code == 200
    assert "Set-Cookie" not in response
    return response.content.decode()


def renders():
    return mock.patch.object(page_cache, "render_to_string", wraps=page_cache.render_to_string)


def test_a_kept_page_carries_the_moment_of_each_request(client):
    seal = seal_in("active")
    with time_machine.travel(NOON, tick=False):
        first = page(client, seal)
    with (
        time_machine.travel(NOON + timedelta(seconds=7), tick=False),
        renders() as render,
        mock.patch.object(snapshot, "logo", wraps=snapshot.logo) as logo,
    ):
        second = page(client, seal)
    assert render.call_count == 0  # kept
    assert logo.call_count == 0  # the context is built only for a render
    assert 'datetime="2026-11-22T12:00:00+00:00"' in first and "12:00:00 UTC" in first
    assert 'datetime="2026-11-22T12:00:07+00:00"' in second and "12:00:07 UTC" in second
    assert "<!--checked" not in second
    assert first.replace("12:00:00", "12:00:07") == second


def test_a_change_to_what_the_page_shows_is_shown_at_once(
    client, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    assert "Valid" in page(client, seal)
    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=seal.member, display_name="Renamed Bakery", actor="t")
    assert "Renamed Bakery" in page(client, seal)
    with django_capture_on_commit_callbacks(execute=True):
        seal_suspend(seal=seal, reason="audit", actor="t")
    assert "Suspended" in page(client, seal)


def test_each_language_is_its_own_page(client):
    seal = seal_in("active")
    assert "Valid from" in page(client, seal)
    assert "Gültig ab" in page(client, seal, HTTP_ACCEPT_LANGUAGE="de")
    assert "Valid from" in page(client, seal)


def test_a_name_cannot_smuggle_a_time_marker(client):
    seal = seal_in("active")
    member_update(member=seal.member, display_name="Bakery <!--checked-text-->", actor="t")
    body = page(client, seal)
    assert "Bakery &lt;!--checked-text--&gt;" in body


def test_a_page_with_a_misuse_warning_is_never_kept(client):
    seal = seal_in("active")
    for n in range(3):
        body = page(client, seal, HTTP_REFERER=f"https://copy{n}.example/")
        assert f"copy{n}.example" in body
    assert len(page_cache._pages.items) == 0
