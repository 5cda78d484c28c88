"""The public side of a seal whose holder's corporate data was erased: every public
answer says only that the seal is no longer valid, names nobody and shows no history."""

from __future__ import annotations

import pytest

from privacy import services as privacy
from seals import snapshot
from seals.chain import verify_chain
from seals.models import SealEvent
from tests.factories import IssuerFactory, MemberFactory, award
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db

LEGAL = "Lovelace Analytical Bakery Ltd"
DISPLAY = "Lovelace Bakery"
DOMAIN = "lovelace-bakery.example"
ISSUER = "Guild of Careful Bakers"


@pytest.fixture
def erased(django_capture_on_commit_callbacks):
    issuer = IssuerFactory(name=ISSUER, website="https://guild.example")
    member = MemberFactory(
        issuer=issuer, legal_name=LEGAL, display_name=DISPLAY, domains=[DOMAIN], country="GB"
    )
    seal = award(member)
    # Read once before the erasure, so a stale cached snapshot would show through.
    assert snapshot.get(seal.public_id).erased is False
    with django_capture_on_commit_callbacks(execute=True):
        privacy.member_erase(member=member, corporate=True, actor="office")
    return seal


FORMER = (LEGAL, DISPLAY, DOMAIN, ISSUER, "guild.example", privacy.ERASED_PLACEHOLDER)


def _names_nobody(text: str) -> None:
    found = [word for word in FORMER if word.casefold() in text.casefold()]
    assert found == []


def test_the_verification_page_says_only_no_longer_valid(client, erased):
    page = client.get(f"/verify/{erased.public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "This seal is no longer valid." in text
    assert erased.public_id in text
    _names_nobody(text)
    for absent in ("History", "Revoked", "erased", "credential.jwt", "jwks", "data:image"):
        assert absent not in text, absent
    assert "set-cookie" not in {k.lower() for k in page.headers}


def test_the_page_speaks_the_visitors_language(client, erased):
    page = client.get(f"/verify/{erased.public_id}?lang=de")
    assert "Dieses Siegel ist nicht mehr gültig." in page.content.decode()


def test_the_json_keeps_its_keys_but_names_nobody(client, erased):
    answer = client.get(f"/verify/{erased.public_id}.json")
    assert answer.status_code == 200
    data = answer.json()
    assert data["status"] == "revoked"
    assert data["detail"] == "This seal is no longer valid."
    assert data["issuer"] is data["programme"] is data["member"] is None
    assert data["history"] == [] and data["credential_status"] == []
    assert data["status_token"] is None
    assert data["valid_from"] is data["status_changed_at"] is None
    assert set(data["links"]) == {"verification_page"}
    _names_nobody(answer.content.decode())
    assert "erased" not in answer.content.decode()


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_the_image_is_a_no_longer_valid_card_naming_nobody(client, erased, fmt):
    image = client.get(f"/s/{erased.public_id}.{fmt}?d=elsewhere.example")
    assert image.status_code == 200
    if fmt == "svg":
        text = image.content.decode()
        assert "No longer valid" in text
        assert "Not verified for this site" not in text
        _names_nobody(text)
        assert "<image" not in text  # no logo
    again = client.get(f"/s/{erased.public_id}.{fmt}", HTTP_IF_NONE_MATCH=image["ETag"])
    assert again.status_code == 304


def test_the_credential_certificate_and_embed_are_gone(client, erased):
    for path in (
        f"/s/{erased.public_id}/credential.jwt",
        f"/s/{erased.public_id}/credential.json",
        f"/s/{erased.public_id}/badge.png",
        f"/s/{erased.public_id}/badge.svg",
        f"/s/{erased.public_id}/certificate.pdf",
        f"/embed/{erased.public_id}",
        f"/embed/{erased.public_id}?format=text",
    ):
        answer = client.get(path)
        assert answer.status_code == 410, path
        assert b"no longer valid" in answer.content, path
        _names_nobody(answer.content.decode())


def test_nothing_is_counted_for_an_erased_seal(client, erased, monkeypatch):
    counted = []
    monkeypatch.setattr("seals.stats.count", lambda *a, **k: counted.append(a))
    client.get(f"/s/{erased.public_id}.svg")
    client.get(f"/verify/{erased.public_id}")
    assert counted == []


def test_the_issuers_chain_still_verifies(erased):
    assert verify_chain(erased.issuer).ok
    assert SealEvent.objects.filter(seal=erased, kind=SealEvent.Kind.ERASED).count() == 1


def test_a_personal_erasure_leaves_the_public_seal_as_it_was(client, issuer):
    member = MemberFactory(issuer=issuer, legal_name=LEGAL, domains=[DOMAIN])
    seal = award(member)
    privacy.member_erase(member=member, corporate=False, actor="office")
    assert snapshot.load(seal.public_id).erased is False
    page = client.get(f"/verify/{seal.public_id}").content.decode()
    assert LEGAL in page and DOMAIN in page and "Valid" in page


def test_a_seal_revoked_before_the_corporate_erasure_is_shown_erased_too(client, issuer):
    member = MemberFactory(issuer=issuer, legal_name=LEGAL, domains=[DOMAIN])
    seal = seal_in("revoked", member)
    privacy.member_erase(member=member, corporate=True, actor="office")
    assert snapshot.load(seal.public_id).erased is True
    _names_nobody(client.get(f"/verify/{seal.public_id}").content.decode())


def test_loading_a_live_seal_costs_no_extra_query(django_assert_num_queries, issuer):
    seal = award(MemberFactory(issuer=issuer))
    with django_assert_num_queries(2):
        snapshot.load(seal.public_id)


@pytest.mark.parametrize("suffix", [".json", ""])
def test_a_past_moment_shows_no_history_of_the_erased_holder(client, erased, suffix):
    response = client.get(f"/verify/{erased.public_id}{suffix}", {"at": "2026-01-01T00:00:00Z"})
    text = response.content.decode()
    _names_nobody(text)
    assert "statement" not in text and "inclusion_proof" not in text
    assert "no longer valid" in text.lower()
