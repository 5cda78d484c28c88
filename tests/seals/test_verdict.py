"""Three-way answers: valid, invalid with its reason, or unknown; never "valid" by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError

from seals.credentials import status_token
from seals.render import render
from seals.render.layout import UNKNOWN, Card
from seals.services import seal_revoke, seal_suspend
from seals.verification import verify_jwt
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
UNREADABLE = mock.patch("seals.snapshot.load", side_effect=OperationalError("server closed"))


def test_a_status_token_that_says_revoked_is_invalid_never_valid(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = seal_revoke(seal=award(MemberFactory(issuer=issuer)), reason="x", actor="t")
        result = verify_jwt(status_token(seal, NOW))
    assert (result.valid, result.failed) == (False, "status")
    assert (result.verdict["verdict"], result.verdict["reason"]) == ("invalid", "revoked")


def test_an_active_status_token_is_valid_and_an_expired_one_unknown_with_its_time(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        token = status_token(seal, NOW)
        assert verify_jwt(token).verdict["verdict"] == "valid"
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        stale = verify_jwt(token)
    assert (stale.valid, stale.verdict["verdict"]) == (False, "unknown")
    assert stale.verdict["last_confirmed_valid_at"] == "2026-03-01T12:00:00Z"


def test_the_posted_verifier_answers_the_verdict(client, issuer):
    seal = seal_suspend(seal=award(MemberFactory(issuer=issuer)), reason="x", actor="t")
    body = client.get(f"/s/{seal.public_id}/credential.jwt").content
    answer = client.post("/verify/credential", body, content_type="application/jwt").json()
    assert answer["valid"] is False
    assert (answer["verdict"]["verdict"], answer["verdict"]["reason"]) == ("invalid", "suspended")
    tampered = body[:-4] + (b"AAAA" if body[-4:] != b"AAAA" else b"BBBB")
    bad = client.post("/verify/credential", tampered, content_type="application/jwt").json()
    assert bad["verdict"]["reason"] == "bad_signature"


@pytest.mark.parametrize(
    ("status_of", "verdict", "reason"),
    [
        (lambda s: s, "valid", None),
        (lambda s: seal_revoke(seal=s, reason="x", actor="t"), "invalid", "revoked"),
    ],
)
def test_the_json_and_page_carry_the_verdict(client, issuer, status_of, verdict, reason):
    seal = status_of(award(MemberFactory(issuer=issuer)))
    data = client.get(f"/verify/{seal.public_id}.json").json()
    assert (data["verdict"]["verdict"], data["verdict"]["reason"]) == (verdict, reason)
    page = client.get(f"/verify/{seal.public_id}").content.decode()
    assert ("Valid:" if verdict == "valid" else "Not valid:") in page


def test_a_pending_seal_is_invalid_as_not_yet_valid(client, issuer):
    seal = award(MemberFactory(issuer=issuer), start_days=3)
    verdict = client.get(f"/verify/{seal.public_id}.json").json()["verdict"]
    assert (verdict["verdict"], verdict["reason"]) == ("invalid", "not_yet_valid")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_an_unreadable_record_gives_the_neutral_status_unknown_image_never_valid(
    client, issuer, fmt
):
    seal = award(MemberFactory(issuer=issuer))
    with UNREADABLE:
        response = client.get(f"/s/{seal.public_id}.{fmt}")
    assert response.status_code == 503
    assert response["Content-Type"] == f"image/{'svg+xml' if fmt == 'svg' else 'png'}"
    assert response["Cache-Control"] == "no-store" and response["Retry-After"]
    assert response.content == render(Card(state=UNKNOWN), fmt=fmt, size="medium", theme="light")
    if fmt == "svg":
        assert b"Status unknown" in response.content and b">Valid<" not in response.content
    else:
        assert response.content.startswith(b"\x89PNG")


def test_an_unreadable_record_is_unknown_in_the_json_and_on_the_page(client, issuer):
    seal = award(MemberFactory(issuer=issuer))
    with UNREADABLE:
        data = client.get(f"/verify/{seal.public_id}.json")
        page = client.get(f"/verify/{seal.public_id}")
    assert data.status_code == page.status_code == 503
    assert data["Content-Type"] == "application/problem+json"
    assert data.json()["verdict"]["verdict"] == "unknown" and data.json()["status"] == 503
    assert data["Cache-Control"] == page["Cache-Control"] == "no-store"
    assert b"Status unknown" in page.content and b"Valid" not in page.content
