"""Exact HTTP on the public routes: HEAD everywhere GET is, the media types the specs name,
the achievement id that resolves, every body shape the verifier accepts, and status-list
caching within the list's own ttl."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from seals.credentials import credential_data_integrity, credential_jwt, credential_payload
from seals.keys import data_integrity_key, signing_key_active
from seals.status_lists import status_lists_regenerate_dirty
from seals.verification import jsonld_undefined_terms
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwt_parts

pytestmark = pytest.mark.django_db
HOST = "http://127.0.0.1:8000"


@pytest.fixture
def seal(issuer):
    seal = award(MemberFactory(issuer=issuer))
    data_integrity_key(issuer)
    status_lists_regenerate_dirty()
    return seal


def _public_get_routes(seal) -> dict[str, str]:
    """Every public GET route (by URL name) with a path that reaches it for ``seal``."""
    slug, sid = seal.issuer.slug, seal.public_id
    return {
        "seal-svg": f"/s/{sid}.svg",
        "seal-png": f"/s/{sid}.png",
        "seal-verify-json": f"/verify/{sid}.json",
        "seal-verify": f"/verify/{sid}",
        "seal-embed": f"/embed/{sid}",
        "seal-certificate": f"/s/{sid}/certificate.pdf",
        "seal-badge-png": f"/s/{sid}/badge.png",
        "seal-badge-svg": f"/s/{sid}/badge.svg",
        "seal-credential": f"/s/{sid}/credential.jwt",
        "seal-credential-di": f"/s/{sid}/credential.json",
        "issuer-profile": f"/issuers/{slug}",
        "issuer-jwks": f"/issuers/{slug}/jwks.json",
        "issuer-did": f"/issuers/{slug}/did.json",
        "issuer-key": f"/issuers/{slug}/keys/{signing_key_active(seal.issuer).key_id}",
        "achievement": f"/issuers/{slug}/programmes/{seal.programme.slug}",
        "status-list": f"/issuers/{slug}/status/revocation",
        "status-list-numbered": f"/issuers/{slug}/status/suspension/0",
        "status-list-di": f"/issuers/{slug}/status/revocation.json",
        "status-list-numbered-di": f"/issuers/{slug}/status/suspension/0.json",
        "seal-misuse-report": f"/verify/{sid}/report",
        "verify-how": "/verify/how",
        "verify-credential": "/verify/credential",
        "privacy": "/privacy",
        "healthz": "/healthz",
    }


def _named_public_routes() -> set[str]:
    """The names of all routes in the public URL modules (so a new one cannot be forgotten)."""
    names: set[str] = set()

    def walk(patterns, inside: bool) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                module = getattr(pattern.urlconf_module, "__name__", "")
                walk(pattern.url_patterns, module in ("seals.urls", "seals.credential_urls"))
            elif inside and isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns, False)
    return names


def test_every_public_get_route_is_listed_here(seal):
    assert _named_public_routes() <= set(_public_get_routes(seal))


def test_head_answers_every_public_get_route_as_get_does(seal, client):
    for name, path in _public_get_routes(seal).items():
        get = client.get(path)
        head = client.head(path)
        assert get.status_code == 200, (name, get.status_code)
        assert head.status_code == 200, (name, head.status_code)
        assert head["Content-Type"] == get["Content-Type"], name
        assert head.content == b"", name
        assert not head.cookies, name


MEDIA_TYPES = {
    "seal-credential": "application/vc+jwt",
    "status-list": "application/vc+jwt",
    "status-list-numbered": "application/vc+jwt",
    "seal-credential-di": "application/vc",
    "status-list-di": "application/vc",
    "status-list-numbered-di": "application/vc",
    "issuer-did": "application/did+ld+json",
    "issuer-jwks": "application/jwk-set+json",
    "issuer-key": "application/jwk+json",
    "issuer-profile": "application/ld+json",
    "achievement": "application/ld+json",
    "seal-badge-png": "image/png",
    "seal-badge-svg": "image/svg+xml",
}


@pytest.mark.parametrize(("name", "media_type"), MEDIA_TYPES.items())
def test_each_document_has_the_media_type_its_spec_names(name, media_type, seal, client):
    response = client.get(_public_get_routes(seal)[name])
    assert response["Content-Type"] == media_type


def test_the_achievement_id_resolves_to_the_achievement_in_the_credential(seal, client):
    achievement = credential_payload(seal)["credentialSubject"]["achievement"]
    response = client.get(achievement["id"].removeprefix(HOST))
    assert response.status_code == 200
    document = json.loads(response.content)
    assert {k: v for k, v in document.items() if k != "@context"} == achievement
    assert document["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert jsonld_undefined_terms(document) == set()


def test_an_unknown_achievement_is_a_404(seal, client):
    assert client.get(f"/issuers/{seal.issuer.slug}/programmes/nothing-here").status_code == 404


def test_a_status_list_is_never_cached_longer_than_its_own_ttl(seal, client):
    for path in (
        f"/issuers/{seal.issuer.slug}/status/revocation",
        f"/issuers/{seal.issuer.slug}/status/suspension.json",
    ):
        response = client.get(path)
        body = response.content.decode()
        document = json.loads(body) if body.startswith("{") else jwt_parts(body)[1]
        ttl_seconds = document["credentialSubject"]["ttl"] / 1000
        max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])
        assert 0 < max_age <= ttl_seconds, path


def _verify(client, body, content_type):
    response = client.post("/verify/credential", body, content_type=content_type)
    assert response.status_code == 200, (content_type, response.content[:200])
    return response.json()


@pytest.mark.parametrize("content_type", ["application/jwt", "application/vc+jwt", "text/plain"])
def test_the_verifier_reads_the_raw_jwt(content_type, seal, client):
    assert _verify(client, credential_jwt(seal), content_type)["valid"] is True


def test_the_verifier_reads_json_bodies(seal, client):
    token = credential_jwt(seal)
    for body in ({"credential": token}, {"jwt": token}, token):
        assert _verify(client, json.dumps(body), "application/json")["valid"] is True, body


def test_the_verifier_reads_the_form_field_and_curls_default_form_body(seal, client):
    token = credential_jwt(seal)
    form = "application/x-www-form-urlencoded"
    assert _verify(client, f"credential={token}", form)["valid"] is True
    # `curl -d @credential.jwt URL` sends the bare token with the form type.
    assert _verify(client, token, form)["valid"] is True


def test_the_verifier_reads_a_multipart_field(seal, client):
    response = client.post("/verify/credential", {"credential": credential_jwt(seal)})
    assert response.status_code == 200 and response.json()["valid"] is True


def test_the_verifier_reads_a_data_integrity_credential(seal, client):
    document = credential_data_integrity(seal)
    for content_type in ("application/vc", "application/ld+json", "application/json"):
        result = _verify(client, json.dumps(document), content_type)
        assert result["valid"] is True and result["checks"][1]["detail"] == "eddsa-rdfc-2022"


def test_the_verifier_still_says_no_credential_for_an_empty_form(client):
    response = client.post(
        "/verify/credential", "note=hello", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and response.json()["title"] == "No credential"
