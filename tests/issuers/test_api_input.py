"""What the API refuses in a request body: fields it would drop, text it cannot render."""

from __future__ import annotations

import pytest

from issuers.models import Issuer, Member, Programme
from issuers.text import text_problem
from seals.models import SealEvent
from tests.api_support import problem
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db


def errors_by_field(response) -> dict[str, dict]:
    assert response.status_code == 400, response.content
    return {e["field"]: e for e in problem(response)["errors"]}


# --- unknown and read-only fields ------------------------------------------------------------


def test_it_refuses_a_read_only_field_instead_of_ignoring_it(api):
    response = api.patch("/programmes/member", {"is_default": False, "wording": "Member"})

    errors = errors_by_field(response)
    assert set(errors) == {"is_default"}
    assert errors["is_default"]["code"] == "read_only_field"
    assert "Read-only field" in errors["is_default"]["message"]
    programme = Programme.objects.get(issuer=api.issuer, slug="member")
    assert programme.is_default and programme.wording != "Member"  # nothing changed


def test_it_refuses_an_unknown_field_and_suggests_the_near_one(api):
    member = MemberFactory(issuer=api.issuer, display_name="Before")

    response = api.patch(f"/members/{member.pk}", {"dispaly_name": "After"})

    errors = errors_by_field(response)
    assert errors["dispaly_name"]["code"] == "unknown_field"
    assert "Did you mean 'display_name'?" in errors["dispaly_name"]["message"]
    member.refresh_from_db()
    assert member.display_name == "Before"


def test_refused_fields_are_listed_with_the_other_errors(api):
    response = api.post(
        "/members", {"external_ref": "A-1", "id": 5, "colour": "red", "country": "GBR"}
    )

    errors = errors_by_field(response)
    assert {f: e["code"] for f, e in errors.items() if f in ("id", "colour")} == {
        "id": "read_only_field",
        "colour": "unknown_field",
    }
    assert {"legal_name", "country"} <= set(errors)
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/issuer", {"slug": "other"}),
        ("/programmes/member", {"slug": "other"}),
        ("/seals", {"member": 1, "valid_to": "2030-01-01T00:00:00Z"}),
    ],
)
def test_every_write_refuses_fields_it_would_drop(api, path, body):
    send = api.patch if path != "/seals" else api.post
    field = next(k for k in body if k != "member")

    assert field in errors_by_field(send(path, body))


def test_seal_actions_refuse_unknown_fields(api):
    seal = award(MemberFactory(issuer=api.issuer))

    response = api.post(f"/seals/{seal.public_id}/suspend", {"reason": "Fees", "notify": True})

    assert errors_by_field(response)["notify"]["code"] == "unknown_field"
    seal.refresh_from_db()
    assert seal.status == "active"


def test_list_filters_still_share_the_query_string_with_paging(api):
    response = api.get("/members", limit=10, ordering="display_name", q="x")

    assert response.status_code == 200


# --- characters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "multiline", "expected"),
    [
        ("Evil\u0001Co", False, "U+0001, at position 5"),
        ("A\tB", False, "tab or line break"),
        ("A\nB", False, "U+000A"),
        ("A\x00", False, "U+0000, at position 2"),
        ("A\x7f", False, "U+007F"),
        ("A\x85", False, "U+0085"),
        ("\ufffeA", False, "U+FFFE, at position 1"),
        ("A\uffff", True, "U+FFFF"),
        ("A\ud800B", True, "U+D800, at position 2"),
        ("A\x0bB", True, "U+000B"),
    ],
)
def test_text_problem_names_the_character_and_its_position(value, multiline, expected):
    assert expected in (text_problem(value, multiline=multiline) or "")


@pytest.mark.parametrize(
    ("value", "multiline"),
    [
        ("Crumb & Co <Bäckerei> «Ltd» 🍞 日本", False),
        ("Line one\nLine two\r\n\tindented", True),
        ("", False),
    ],
)
def test_text_problem_accepts_printable_text(value, multiline):
    assert text_problem(value, multiline=multiline) is None


def test_it_refuses_a_control_character_in_a_member_name(api):
    response = api.post("/members", {"external_ref": "A-1", "legal_name": "Evil\u0001Co"})

    error = errors_by_field(response)["legal_name"]
    assert error["code"] == "invalid_character"
    assert "U+0001, at position 5" in error["message"]
    assert not Member.objects.exists()


def test_a_nul_is_reported_once(api):
    response = api.post("/members", {"external_ref": "A-1", "legal_name": "Ev\u0000il"})

    assert len(problem(response)["errors"]) == 1
    assert "U+0000" in problem(response)["detail"]


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/issuer", "name", "Guild\ufffe"),
        ("/programmes/member", "wording", "Verified\tmember"),
        ("/programmes/member", "name", "Gold\nmember"),
    ],
)
def test_it_refuses_bad_characters_in_every_single_line_field(api, path, field, value):
    response = api.patch(path, {field: value})

    assert errors_by_field(response)[field]["code"] == "invalid_character"
    assert Issuer.objects.get(pk=api.issuer.pk).name != value
    assert not Programme.objects.filter(**{field: value}).exists()


def test_a_lone_surrogate_in_raw_json_is_refused(api):
    member = MemberFactory(issuer=api.issuer)
    body = b'{"display_name": "Bad \\ud800 name"}'

    response = api.client.patch(
        f"/api/v1/members/{member.pk}", body, content_type="application/json"
    )

    assert "U+D800, at position 5" in errors_by_field(response)["display_name"]["message"]


def test_descriptions_and_reasons_may_span_lines(api):
    seal = award(MemberFactory(issuer=api.issuer))

    described = api.patch("/programmes/member", {"description": "Line one.\nLine two."})
    suspended = api.post(f"/seals/{seal.public_id}/suspend", {"reason": "Unpaid.\nSee letter."})
    refused = api.post(f"/seals/{seal.public_id}/revoke", {"reason": "Gone\u0007"})

    assert described.status_code == 200 and suspended.status_code == 200
    assert errors_by_field(refused)["reason"]["code"] == "invalid_character"
    kinds = list(SealEvent.objects.filter(seal=seal).values_list("kind", flat=True))
    assert "revoked" not in kinds


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/webhooks", {"url": "https://hooks.example/in", "secret": "mine"}, "secret"),
        ("/data-requests", {"kind": "access", "sate": "completed"}, "sate"),
        ("/keys/rotate", {"algoritm": "RS256"}, "algoritm"),
    ],
)
def test_every_request_body_refuses_fields_it_would_drop(api, path, body, field):
    from issuers.models import DataRequest, WebhookEndpoint
    from seals.models import SigningKey

    counts = (WebhookEndpoint.objects.count(), DataRequest.objects.count())
    keys = SigningKey.objects.count()

    errors = errors_by_field(api.post(path, body))

    assert errors[field]["code"] in {"unknown_field", "read_only_field"}
    assert (WebhookEndpoint.objects.count(), DataRequest.objects.count()) == counts
    assert SigningKey.objects.count() == keys
