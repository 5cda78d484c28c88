"""Issuer, programmes, members and seals through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from issuers.models import Member, Programme
from seals.models import Seal, SealEvent, SealStatus
from seals.selectors import seal_status_q
from seals.status import effective_status
from tests.api_support import problem
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db


# --- issuer ----------------------------------------------------------------------------------


def test_it_shows_and_updates_the_calling_issuer(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    invalidated = []
    monkeypatch.setattr("seals.snapshot.invalidate_issuer", invalidated.append)
    assert api.get("/issuer").json()["slug"] == api.issuer.slug

    with django_capture_on_commit_callbacks(execute=True):
        with_commit = api.patch("/issuer", {"website": "https://new.example"})

    assert with_commit.status_code == 200
    assert with_commit.json()["website"] == "https://new.example"
    assert with_commit.json()["slug"] == api.issuer.slug
    assert [i.pk for i in invalidated] == [api.issuer.pk]


def test_it_refuses_an_invalid_issuer_update(api):
    response = api.patch("/issuer", {"kind": "pirate", "public_email": "nope"})

    assert response.status_code == 400
    assert {e["field"] for e in problem(response)["errors"]} == {"kind", "public_email"}


# --- programmes ------------------------------------------------------------------------------


def test_programme_crud(api):
    created = api.post(
        "/programmes",
        {"slug": "gold", "name": "Gold", "validity_days": 730, "notice_days": [60, 7]},
    )
    assert created.status_code == 201, created.content
    assert created.json()["notice_days"] == [60, 7]

    assert api.get("/programmes/gold").json()["validity_days"] == 730
    updated = api.patch("/programmes/gold", {"wording": "Gold member"})
    assert updated.json()["wording"] == "Gold member"
    assert updated.json()["slug"] == "gold"
    slugs = [p["slug"] for p in api.get("/programmes").json()["results"]]
    assert sorted(slugs) == ["gold", "member"]
    assert api.delete("/programmes/gold").status_code == 204
    assert not Programme.objects.filter(issuer=api.issuer, slug="gold").exists()


def test_a_programme_names_its_certificate_signatory_and_a_change_refreshes_its_seals(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    invalidated = []
    monkeypatch.setattr("seals.snapshot.invalidate_programme", invalidated.append)
    created = api.post("/programmes", {"slug": "gold", "name": "Gold"})
    assert created.json()["signatory_name"] == created.json()["signatory_title"] == ""

    with django_capture_on_commit_callbacks(execute=True):
        updated = api.patch(
            "/programmes/gold", {"signatory_name": "Ada Byron", "signatory_title": "Registrar"}
        )

    assert updated.status_code == 200, updated.content
    assert (updated.json()["signatory_name"], updated.json()["signatory_title"]) == (
        "Ada Byron",
        "Registrar",
    )
    assert [p.slug for p in invalidated] == ["gold"]
    too_long = api.patch("/programmes/gold", {"signatory_name": "x" * 121})
    assert too_long.status_code == 400
    assert Programme.objects.get(issuer=api.issuer, slug="gold").signatory_name == "Ada Byron"


def test_it_refuses_a_duplicate_programme_slug_and_deleting_the_default(api):
    duplicate = api.post("/programmes", {"slug": "member", "name": "Again"})
    default = api.delete("/programmes/member")

    assert duplicate.status_code == 409
    assert default.status_code == 409
    assert "default programme" in problem(default)["detail"]


def test_it_refuses_deleting_a_programme_with_seals(api):
    api.post("/programmes", {"slug": "gold", "name": "Gold"})
    award(MemberFactory(issuer=api.issuer), programme=Programme.objects.get(slug="gold"))

    response = api.delete("/programmes/gold")

    assert response.status_code == 409
    assert problem(response)["code"] == "in_use"


# --- members ---------------------------------------------------------------------------------


def test_member_crud(api):
    created = api.post(
        "/members",
        {
            "external_ref": "M-1",
            "legal_name": "Bäckerei Müller GmbH",
            "domains": ["Bäckerei.example", "shop.example."],
            "country": "de",
            "contact_email": "Anna@example.com",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["domains"] == ["xn--bckerei-5wa.example", "shop.example"]
    assert body["country"] == "DE"
    assert body["display_name"] == "Bäckerei Müller GmbH"

    member_id = body["id"]
    assert api.get(f"/members/{member_id}").json()["external_ref"] == "M-1"
    updated = api.patch(f"/members/{member_id}", {"display_name": "Müller"})
    assert updated.json()["display_name"] == "Müller"
    assert api.delete(f"/members/{member_id}").status_code == 204
    assert not Member.objects.filter(pk=member_id).exists()


def test_it_refuses_duplicate_domains_and_references(api):
    api.post("/members", {"external_ref": "M-1", "legal_name": "A"})

    twice = api.post(
        "/members",
        {"external_ref": "M-2", "legal_name": "B", "domains": ["a.example", "A.example"]},
    )
    again = api.post("/members", {"external_ref": "M-1", "legal_name": "C"})

    assert twice.status_code == 400
    assert "listed twice" in problem(twice)["errors"][0]["message"]
    assert again.status_code == 409
    assert problem(again)["code"] == "member_exists"


def test_changing_public_details_records_an_event_and_refreshes_seals(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    invalidated = []
    monkeypatch.setattr("seals.snapshot.invalidate_member", invalidated.append)
    member = MemberFactory(issuer=api.issuer)
    seal = award(member)

    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/members/{member.pk}", {"domains": ["new.example"]})
        api.patch(f"/members/{member.pk}", {"contact_phone": "+44 1"})  # private: no event

    events = SealEvent.objects.filter(seal=seal).order_by("seq")
    assert [e.kind for e in events] == ["issued", "details_changed"]
    assert events.last().data == {"fields": ["domains"]}
    assert [m.pk for m in invalidated] == [member.pk]


def test_it_refuses_deleting_a_member_with_seals(api):
    member = MemberFactory(issuer=api.issuer)
    award(member)

    response = api.delete(f"/members/{member.pk}")

    assert response.status_code == 409
    assert "revoke" in problem(response)["detail"]


def test_member_filters(api):
    now = timezone.now()
    gold = Programme.objects.create(issuer=api.issuer, slug="gold", name="Gold")
    soon = MemberFactory(issuer=api.issuer, legal_name="Soon Ltd", domains=["soon.example"])
    award(soon, days=10)
    later = MemberFactory(issuer=api.issuer, legal_name="Later Ltd", country="FR")
    award(later, days=300, programme=gold)
    gone = MemberFactory(issuer=api.issuer, legal_name="Gone Ltd")
    from seals.services import seal_revoke

    seal_revoke(seal=award(gone), reason="left", actor="t")

    def ids(**params):
        return [m["id"] for m in api.get("/members", **params).json()["results"]]

    assert set(ids(status="active")) == {soon.pk, later.pk}
    assert ids(status="revoked") == [gone.pk]
    assert ids(programme="gold") == [later.pk]
    assert ids(expiring_before=(now + timedelta(days=30)).isoformat()) == [soon.pk]
    assert ids(q="later") == [later.pk]
    assert ids(domain="SOON.example") == [soon.pk]
    assert ids(country="fr") == [later.pk]
    assert ids(ordering="legal_name") == [gone.pk, later.pk, soon.pk]
    bad = api.get("/members", status="sleeping", domain="http://x/", country="UK")
    assert bad.status_code == 400
    errors = {e["field"]: e for e in problem(bad)["errors"]}
    assert set(errors) == {"status", "domain", "country"}
    assert "GB" in str(errors["country"])  # the usual mistake is named with its right code


def test_status_filter_agrees_with_effective_status(issuer):
    now = timezone.now()
    members = [MemberFactory(issuer=issuer) for _ in range(3)]
    award(members[0], start_days=5)  # pending
    award(members[1], days=1)  # expires tomorrow
    award(members[2])
    later = now + timedelta(days=2)
    for status in SealStatus.values:
        via_sql = set(
            Seal.objects.filter(seal_status_q(status, later)).values_list("pk", flat=True)
        )
        via_rule = {s.pk for s in Seal.objects.all() if effective_status(s, later) == status}
        assert via_sql == via_rule, status


def test_members_are_cursor_paginated(api):
    for i in range(5):
        MemberFactory(issuer=api.issuer, legal_name=f"M{i}")

    first = api.get("/members", limit=2).json()
    second = api.client.get(first["next"]).json()
    third = api.client.get(second["next"]).json()

    seen = [m["id"] for page in (first, second, third) for m in page["results"]]
    assert len(seen) == 5 == len(set(seen))
    assert third["next"] is None
    assert len(api.get("/members", limit=1000).json()["results"]) == 5  # capped, not refused


# --- seals -----------------------------------------------------------------------------------


def test_it_awards_a_seal_and_runs_every_action(api):
    member = MemberFactory(issuer=api.issuer)
    awarded = api.post("/seals", {"member": member.pk})
    assert awarded.status_code == 201, awarded.content
    seal_id = awarded.json()["id"]
    assert awarded.json()["status"] == "active"

    suspended = api.post(f"/seals/{seal_id}/suspend", {"reason": "Fees unpaid"})
    assert suspended.json()["status"] == "suspended"
    reinstated = api.post(f"/seals/{seal_id}/reinstate", {"reason": "Paid"})
    assert reinstated.json()["status"] == "active"
    new_expiry = (timezone.now() + timedelta(days=800)).replace(microsecond=0)
    renewed = api.post(
        f"/seals/{seal_id}/renew", {"expires_at": new_expiry.isoformat(), "reason": "Renewal"}
    )
    assert renewed.json()["expires_at"] == new_expiry.isoformat().replace("+00:00", "Z")
    revoked = api.post(f"/seals/{seal_id}/revoke", {"reason": "Left"})
    assert revoked.json()["status"] == "revoked"

    again = api.post(f"/seals/{seal_id}/reinstate", {"reason": "Oops"})
    assert again.status_code == 409
    assert problem(again)["code"] == "seal_state_conflict"

    events = api.get(f"/seals/{seal_id}/events").json()
    assert [e["kind"] for e in events] == [
        "issued",
        "suspended",
        "reinstated",
        "renewed",
        "revoked",
    ]
    assert all(e["actor"].startswith("api-key:") for e in events)
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert all("private_data" not in e and "Fees" not in str(e) for e in events)


def test_an_action_needs_a_reason(api):
    seal = award(MemberFactory(issuer=api.issuer))

    response = api.post(f"/seals/{seal.public_id}/suspend", {})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "reason"


def test_it_refuses_a_second_live_seal_in_one_programme(api):
    member = MemberFactory(issuer=api.issuer)
    award(member)

    response = api.post("/seals", {"member": member.pk, "programme": "member"})

    assert response.status_code == 409
    assert "renew it instead" in problem(response)["detail"]


def test_it_refuses_to_renew_into_the_past(api):
    seal = award(MemberFactory(issuer=api.issuer))

    response = api.post(
        f"/seals/{seal.public_id}/renew",
        {"expires_at": "2001-01-01T00:00:00Z", "reason": "x"},
    )

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "expires_at"


def test_seal_list_filters_by_effective_status(api):
    member = MemberFactory(issuer=api.issuer)
    seal = award(member, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        body = api.get("/seals", status="expired").json()
        assert [s["id"] for s in body["results"]] == [seal.public_id]
        assert body["results"][0]["status"] == "expired"
        assert body["results"][0]["stored_status"] == "active"  # no worker needed


def test_embed_snippet(api):
    seal = award(MemberFactory(issuer=api.issuer, legal_name="Crumb & Co"))

    body = api.get(f"/seals/{seal.public_id}/embed", size="small").json()

    assert body["html"].startswith(f'<a href="http://127.0.0.1:8000/verify/{seal.public_id}"')
    assert 'width="160"' in body["html"]
    assert "Crumb &amp; Co" in body["html"]
    assert api.get(f"/seals/{seal.public_id}/embed", size="huge").status_code == 400


# --- tenancy ---------------------------------------------------------------------------------


def test_another_issuers_objects_are_404_on_every_object_route(api, other_api):
    member = MemberFactory(issuer=api.issuer)
    seal = award(member)
    Programme.objects.create(issuer=api.issuer, slug="gold", name="Gold")
    routes = [
        ("get", f"/members/{member.pk}", None),
        ("patch", f"/members/{member.pk}", {"legal_name": "Hijacked"}),
        ("delete", f"/members/{member.pk}", None),
        ("get", "/programmes/gold", None),
        ("patch", "/programmes/gold", {"name": "Hijacked"}),
        ("delete", "/programmes/gold", None),
        ("get", f"/seals/{seal.public_id}", None),
        ("get", f"/seals/{seal.public_id}/events", None),
        ("get", f"/seals/{seal.public_id}/embed", None),
        ("post", f"/seals/{seal.public_id}/suspend", {"reason": "x"}),
        ("post", f"/seals/{seal.public_id}/reinstate", {"reason": "x"}),
        ("post", f"/seals/{seal.public_id}/revoke", {"reason": "x"}),
        ("post", f"/seals/{seal.public_id}/renew", {"reason": "x", "expires_at": "2040-01-01"}),
    ]
    for method, path, data in routes:
        response = (
            getattr(other_api, method)(path, data) if data else getattr(other_api, method)(path)
        )
        assert response.status_code == 404, (method, path, response.status_code)
        assert problem(response)["code"] == "not_found"

    award_other = other_api.post("/seals", {"member": member.pk})
    assert award_other.status_code == 400  # a member id that is not theirs does not exist
    assert other_api.get("/members").json()["results"] == []
    assert other_api.get("/seals").json()["results"] == []
    seal.refresh_from_db()
    assert seal.status == SealStatus.ACTIVE
    assert Member.objects.get(pk=member.pk).legal_name != "Hijacked"
