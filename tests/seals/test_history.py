"""Historical answers: the status at a moment, replayed from the seal's chained events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine

from issuers.services import programme_default
from seals.history import (
    BEFORE_ISSUE,
    FUTURE,
    RECORDED,
    BadMoment,
    answer_at,
    parse_at,
    register_log_evidence,
)
from seals.keys import issuer_jwks
from seals.services import seal_award, seal_reinstate, seal_renew, seal_revoke, seal_suspend
from seals.verification import verify_jwt
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def lived(issuer):
    """Awarded at T0 for 30 days, suspended at T0+1h, reinstated at +2h, revoked at +3h."""
    member = MemberFactory(issuer=issuer)
    with time_machine.travel(T0, tick=False):
        seal = seal_award(
            member=member,
            programme=programme_default(issuer),
            actor="test",
            expires_at=T0 + timedelta(days=30),
        )
    for hours, change in ((1, seal_suspend), (2, seal_reinstate), (3, seal_revoke)):
        with time_machine.travel(T0 + hours * HOUR, tick=False):
            seal = change(seal=seal, reason="audit", actor="test")
    return seal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T12:00:00Z", T0),
        ("2026-03-01t12:00:00z", T0),
        ("2026-03-01T14:00:00+02:00", T0),
        ("2026-03-01T12:00:00.1234567Z", T0.replace(microsecond=123456)),
    ],
)
def test_it_reads_rfc_3339_times_in_utc(text, expected):
    assert parse_at(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("yesterday", "RFC 3339"),
        ("2026-03-01", "RFC 3339"),
        ("2026-03-01T12:00:00", "RFC 3339"),  # no offset: a guess at the zone
        ("2026-02-30T12:00:00Z", "not a real moment"),
        ("2026-03-01T12:00:00 02:00", "%2B"),  # an unencoded "+"
    ],
)
def test_it_refuses_what_is_not_an_rfc_3339_time_in_plain_words(text, words):
    with pytest.raises(BadMoment, match=words.replace("+", r"\+")):
        parse_at(text)


@pytest.mark.parametrize(
    ("offset", "status", "kinds"),
    [
        (timedelta(0), "active", ["issued"]),
        (30 * timedelta(minutes=1), "active", ["issued"]),
        (HOUR, "suspended", ["issued", "suspended"]),
        (HOUR * 2.5, "active", ["issued", "reinstated"]),
        (HOUR * 3, "revoked", ["issued", "revoked"]),
        (timedelta(days=40), "revoked", ["issued", "revoked"]),
    ],
)
def test_it_answers_the_status_then_with_the_events_that_establish_it(lived, offset, status, kinds):
    answer = answer_at(lived, T0 + offset, now=T0 + timedelta(days=50))
    assert (answer.answer, answer.status) == (RECORDED, status)
    assert [e.kind for e in answer.events] == kinds
    assert answer.verdict.verdict == ("valid" if status == "active" else "invalid")


def test_an_expiry_falls_at_its_instant_whether_or_not_a_worker_recorded_it(issuer):
    with time_machine.travel(T0, tick=False):
        seal = seal_award(
            member=MemberFactory(issuer=issuer),
            programme=programme_default(issuer),
            actor="test",
            expires_at=T0 + HOUR,
        )
    now = T0 + timedelta(days=1)
    before, after = (
        answer_at(seal, T0 + HOUR + d, now=now) for d in (-timedelta(seconds=1), 0 * HOUR)
    )
    assert (before.status, after.status) == ("active", "expired")
    assert (after.verdict.verdict, after.verdict.reason) == ("invalid", "expired")


def test_a_renewal_extends_the_validity_from_its_moment(issuer):
    with time_machine.travel(T0, tick=False):
        seal = seal_award(
            member=MemberFactory(issuer=issuer),
            programme=programme_default(issuer),
            actor="test",
            expires_at=T0 + 2 * HOUR,
        )
    with time_machine.travel(T0 + HOUR, tick=False):
        seal = seal_renew(seal=seal, expires_at=T0 + 10 * HOUR, reason="paid", actor="test")
    now = T0 + timedelta(days=1)
    assert answer_at(seal, T0 + 3 * HOUR, now=now).status == "active"
    assert answer_at(seal, T0 + 10 * HOUR, now=now).status == "expired"


def test_before_issue_and_future_moments_get_a_plain_answer_not_a_guess(lived):
    now = T0 + 5 * HOUR
    before = answer_at(lived, T0 - timedelta(seconds=1), now=now)
    assert (before.answer, before.status, before.events) == (BEFORE_ISSUE, None, ())
    assert (before.verdict.verdict, before.verdict.reason) == ("invalid", "not_yet_valid")
    future = answer_at(lived, now + HOUR, now=now)
    assert (future.answer, future.status, future.verdict.verdict) == (FUTURE, None, "unknown")
    assert future.verdict.last_confirmed_valid_at is None  # revoked now: not valid now either


# --- over HTTP ------------------------------------------------------------------------------
def test_the_json_answer_is_signed_by_the_issuer_with_at_status_and_events(client, lived):
    with time_machine.travel(T0 + 5 * HOUR, tick=False):
        response = client.get(
            f"/verify/{lived.public_id}.json", {"at": _at(T0 + timedelta(minutes=30))}
        )
        result = verify_jwt(response.json()["statement"])
    body = response.json()
    assert response.status_code == 200
    assert (body["answer"], body["status"], body["verdict"]["verdict"]) == (
        RECORDED,
        "active",
        "valid",
    )
    claims = jwt.decode(body["statement"], options={"verify_signature": False})
    assert claims["sub"] == lived.public_id and claims["at"] == body["at"]
    assert claims["status_then"] == "active" and claims["events"] == [
        e["seq"] for e in body["events"]
    ]
    assert (result.valid, result.kind) == (True, "historical_statement")
    assert (
        result.verdict["verdict"] == "valid"
        and "not a statement about now" in result.verdict["detail"]
    )
    assert any(
        k["kid"] == jwt.get_unverified_header(body["statement"])["kid"]
        for k in issuer_jwks(lived.issuer)["keys"]
    )


def test_without_the_log_each_event_has_a_null_log_and_no_checkpoint(client, lived):
    register_log_evidence(None)
    try:
        body = client.get(f"/verify/{lived.public_id}.json", {"at": _at(T0 + HOUR)}).json()
    finally:
        from transparency.evidence import log_evidence

        register_log_evidence(log_evidence)
    assert body["checkpoint"] is None and [e["log"] for e in body["events"]] == [None, None]
    assert (
        jwt.decode(body["statement"], options={"verify_signature": False})["checkpoint_size"]
        is None
    )


@pytest.mark.parametrize("suffix", [".json", ""])
def test_a_malformed_at_is_a_400_in_plain_words(client, lived, suffix):
    response = client.get(f"/verify/{lived.public_id}{suffix}", {"at": "last tuesday"})
    assert response.status_code == 400
    assert b"RFC 3339" in response.content and b"Traceback" not in response.content
    assert not response.cookies


def test_a_future_moment_is_not_cached_and_an_unknown_seal_is_a_404(client, lived):
    with time_machine.travel(T0 + 5 * HOUR, tick=False):
        future = client.get(f"/verify/{lived.public_id}.json", {"at": _at(T0 + 6 * HOUR)})
    assert future.status_code == 200 and future["Cache-Control"] == "no-store"
    assert future.json()["verdict"]["verdict"] == "unknown"
    missing = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA.json", {"at": _at(T0)})
    assert missing.status_code == 404
    assert missing.json()["verdict"]["reason"] == "unknown_seal"


def test_the_page_shows_the_status_then_and_links_the_json(client, lived):
    with time_machine.travel(T0 + 5 * HOUR, tick=False):
        response = client.get(f"/verify/{lived.public_id}", {"at": _at(T0 + HOUR)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Suspended" in html and "Not valid" in html
    assert f"/verify/{lived.public_id}.json?at=" in html
    assert response["Content-Security-Policy"] and not response.cookies
