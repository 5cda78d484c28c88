"""The portal's pages: a member sees and changes only its own data, through the services the
API calls, and every change names the member as its actor."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from issuers.models import DataRequest, Member
from privacy.unsubscribe import unsubscribe_url
from seals.links import embed_snippet
from seals.models import Seal, SealEvent
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db


def reload(member: Member) -> Member:
    with scopes_disabled():
        return Member.objects.get(pk=member.pk)


def test_pages_need_a_sign_in(member):
    seal = Seal.objects.filter(member=member).values_list("public_id", flat=True)
    with scopes_disabled():
        public_id = seal.get()
    for name, args in [
        ("portal:home", []),
        ("portal:seal", [public_id]),
        ("portal:details", []),
        ("portal:preferences", []),
        ("portal:data-requests", []),
        ("portal:export", []),
    ]:
        response = Client().get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("portal:sign-in")


def test_the_seal_page_shows_the_seal_as_visitors_see_it(signed_in, member):
    with scopes_disabled():
        seal = Seal.objects.select_related("member", "programme", "issuer").get(member=member)
    listed = signed_in.get(reverse("portal:home")).content.decode()
    assert reverse("portal:seal", args=[seal.public_id]) in listed and "active" in listed
    response = signed_in.get(reverse("portal:seal", args=[seal.public_id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"/s/{seal.public_id}.svg" in page
    assert f"/s/{seal.public_id}/certificate.pdf" in page
    assert f"/s/{seal.public_id}/badge.png" in page
    # The snippet as text to copy (escaped, so the page does not render it), exactly as
    # seals.links makes it.
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert "<" not in textarea
    assert html.unescape(textarea) == str(embed_snippet(seal))
    assert "Issued" in page  # the history
    assert "Image views" in page  # the statistics
    assert "<script" not in page.lower()


def test_another_members_seal_is_not_found(signed_in):
    neighbour = MemberFactory()  # another issuer's
    other_seal = award(neighbour)
    assert signed_in.get(reverse("portal:seal", args=[other_seal.public_id])).status_code == 404


def test_a_seal_of_another_member_of_the_same_issuer_is_not_found(signed_in, member):
    sibling = MemberFactory(issuer=member.issuer)
    seal = award(sibling)
    assert signed_in.get(reverse("portal:seal", args=[seal.public_id])).status_code == 404


def test_a_correction_changes_the_member_and_records_the_member_as_actor(signed_in, member):
    response = signed_in.post(
        reverse("portal:details"),
        {
            "display_name": "Acme Renamed",
            "domains": "acme.example\nwww.acme.example",
            "contact_name": "Grace Contact",
            "contact_email": member.contact_email,
            "contact_phone": "",
        },
    )
    assert response.status_code == 302
    member = reload(member)
    assert member.display_name == "Acme Renamed"
    assert member.domains == ["acme.example", "www.acme.example"]
    assert member.contact_name == "Grace Contact"
    with scopes_disabled():
        event = SealEvent.objects.filter(seal__member=member).order_by("-seq").first()
    assert event.kind == SealEvent.Kind.DETAILS_CHANGED
    assert event.actor == f"member:{member.pk}"


def test_a_bad_domain_is_refused_and_changes_nothing(signed_in, member):
    response = signed_in.post(
        reverse("portal:details"),
        {"display_name": "Other", "domains": "not a host!", "contact_email": member.contact_email},
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert reload(member).display_name == member.display_name


def test_changing_the_contact_address_keeps_the_person_signed_in(signed_in, member):
    data = {"display_name": member.display_name, "contact_email": "new@acme.example"}
    signed_in.post(reverse("portal:details"), data)
    assert reload(member).contact_email == "new@acme.example"
    assert signed_in.get(reverse("portal:home")).status_code == 200


def test_other_corrections_are_a_rectification_request(signed_in, member):
    response = signed_in.post(reverse("portal:correction"), {"fields_wrong": ["legal_name"]})
    assert response.status_code == 302
    with scopes_disabled():
        request = DataRequest.objects.get(member=member)
    assert request.kind == DataRequest.Kind.RECTIFICATION
    assert request.audit[0]["actor"] == f"member:{member.pk}"
    assert request.audit[0]["fields"] == ["legal_name"]
    assert reload(member).legal_name == member.legal_name


def test_a_correction_request_naming_nothing_is_refused(signed_in, member):
    response = signed_in.post(reverse("portal:correction"), {})
    assert response.status_code == 400
    assert member.display_name in response.content.decode()  # the form keeps its values
    with scopes_disabled():
        assert not DataRequest.objects.exists()


def test_announcements_can_be_switched_off_and_on(signed_in, member):
    page = signed_in.get(reverse("portal:preferences")).content.decode()
    assert unsubscribe_url(member) in page.replace("&amp;", "&")
    assert "always" in page  # service mail is said to stay on
    signed_in.post(reverse("portal:preferences"), {})
    assert reload(member).marketing_opt_out is True
    signed_in.post(reverse("portal:preferences"), {"announcements": "on"})
    assert reload(member).marketing_opt_out is False


def test_a_data_request_is_filed_with_its_due_date(signed_in, member):
    before = timezone.now()
    response = signed_in.post(reverse("portal:data-requests"), {"kind": "erasure"})
    assert response.status_code == 302
    with scopes_disabled():
        request = DataRequest.objects.get(member=member)
    assert request.kind == "erasure" and request.state == DataRequest.State.RECEIVED
    assert before + timedelta(days=27) < request.due_at < before + timedelta(days=32)
    assert request.audit[0]["actor"] == f"member:{member.pk}"
    page = signed_in.get(reverse("portal:data-requests")).content.decode()
    assert request.due_at.strftime("%Y-%m-%d") in page


def test_an_unknown_kind_is_refused_and_files_nothing(signed_in, member):
    response = signed_in.post(reverse("portal:data-requests"), {"kind": "everything"})
    assert response.status_code == 200
    with scopes_disabled():
        assert not DataRequest.objects.exists()


def test_the_export_downloads_the_members_data_as_json(signed_in, member):
    response = signed_in.get(reverse("portal:export"))
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["format"] == "trustseal.member-export/1"
    assert json.dumps(document).count(member.external_ref) >= 1


def test_portal_pages_carry_the_strict_csp_and_no_inline_script(signed_in):
    response = signed_in.get(reverse("portal:details"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script" not in response.content.decode()


def test_a_post_without_csrf_token_is_refused(member):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:sign-in"), {"email": member.contact_email})
    assert response.status_code == 403


def test_the_export_downloads_as_csv_files_in_a_zip(signed_in, member):
    import io
    import zipfile

    response = signed_in.get(reverse("portal:export-csv"))
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = archive.read("member.csv").decode("utf-8-sig")
    assert member.external_ref in text
    assert Client().get(reverse("portal:export-csv"))["Location"] == reverse("portal:sign-in")
