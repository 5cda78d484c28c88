"""The hostile corpus (tests/data/hostile, written by its make_corpus.py) against every way in.

Each file and string gets a clear 4xx (problem+json) or a safe result: logos are re-encoded to a
clean PNG, names reach the public pages escaped, imports refuse what they cannot read. Nothing
answers 5xx and nothing is executed or stored unescaped.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.db import connection
from PIL import Image

from issuers.logos import LOGO_MAX_SIDE
from issuers.models import ImportJob, Issuer, Member
from tests.api_support import problem
from tests.factories import MemberFactory, award

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
LOGOS = sorted((CORPUS / "logos").iterdir())
CSVS = sorted((CORPUS / "csv").iterdir())
STRINGS: dict[str, str] = json.loads((CORPUS / "strings.json").read_text())
# What must never appear raw in an HTML or SVG answer.
ACTIVE_MARKUP = (b"<script", b"<img", b"<svg/onload", b"<iframe", b"<b onm", b"<foreignobject")
LOGO_REFUSALS = {400, 413, 415}
# No name may hold these: C0 controls but TAB/LF/CR, the noncharacters U+FFFE and
# U+FFFF, and UTF-16 surrogates, which are not characters at all. None is legal in XML 1.0.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MUST_REFUSE = sorted(
    key for key, value in STRINGS.items() if key != "nul" and FORBIDDEN.search(value)
)

pytestmark = pytest.mark.django_db


def test_the_corpus_is_complete_and_small():
    names = {p.name for p in LOGOS}
    for kind in ("bomb", "truncated", "polyglot", ".svg", "animated", "cmyk", "one-pixel", "exif"):
        assert any(kind in name for name in names), kind
    assert {"invalid-utf8.csv", "nul-bytes.csv"} <= {p.name for p in CSVS}
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 256 * 1024


@pytest.mark.parametrize("path", LOGOS, ids=lambda p: p.name)
def test_a_hostile_logo_is_refused_clearly_or_stored_as_a_clean_png(api, path):
    data = path.read_bytes()
    mime = {"svg": "image/svg+xml", "gif": "image/gif", "jpg": "image/jpeg"}.get(
        path.suffix[1:], "image/png"
    )
    response = api.put("/issuer/logo", data, mime)
    issuer = Issuer.objects.get(pk=api.issuer.pk)
    if response.status_code != 200:
        assert response.status_code in LOGO_REFUSALS, (response.status_code, response.content)
        assert problem(response)["detail"]
        assert issuer.logo_png is None  # nothing kept from a refused upload
        return
    stored = bytes(issuer.logo_png)
    assert b"<script" not in stored and b"<html" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and max(image.size) <= LOGO_MAX_SIDE
        assert getattr(image, "n_frames", 1) == 1
        assert not image.text  # no text chunks survive


@pytest.mark.parametrize(
    "name", ["bomb-dimensions.png", "bomb-text-chunk.png", "script.svg", "animated.gif"]
)
def test_the_worst_files_are_always_refused(api, name):
    response = api.put("/issuer/logo", (CORPUS / "logos" / name).read_bytes(), "image/png")
    assert response.status_code in LOGO_REFUSALS, response.content


@pytest.mark.parametrize("path", CSVS, ids=lambda p: p.name)
def test_a_hostile_csv_is_refused_or_reported_per_row_never_a_500(api, path):
    response = api.client.post(
        "/api/v1/imports?mode=partial", path.read_bytes(), content_type="text/csv"
    )
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert problem(response)["detail"]
    for member in Member.objects.filter(issuer=api.issuer):
        assert "\x00" not in member.legal_name
        assert not FORBIDDEN.search(member.legal_name), member.legal_name
    if path.name in ("invalid-utf8.csv", "surrogate-utf8.csv"):
        assert response.status_code == 400
        assert "UTF-8" in problem(response)["detail"]
        assert not ImportJob.objects.filter(issuer=api.issuer, state="succeeded").exists()


def _public_answers(client, seal) -> dict[str, object]:
    sid = seal.public_id
    return {
        "page": client.get(f"/verify/{sid}", HTTP_REFERER="https://<script>.example/"),
        "json": client.get(f"/verify/{sid}.json"),
        "svg": client.get(f"/s/{sid}.svg", {"d": "<script>x</script>"}),
        "png": client.get(f"/s/{sid}.png"),
        "embed": client.get(f"/embed/{sid}"),
    }


def _post_member(api, key: str, value: str):
    """As a client's JSON arrives: json.dumps escapes what UTF-8 cannot carry (``\\ud800``)."""
    body = {"external_ref": f"H-{key}", "legal_name": value, "display_name": value[:300]}
    return api.client.post("/api/v1/members", json.dumps(body), content_type="application/json")


def _assert_well_formed_svg(answer) -> None:
    assert answer.status_code == 200, answer.status_code
    # Our own answer, parsed to prove it is XML at all: a name must never break the document.
    ElementTree.fromstring(answer.content)  # noqa: S314 -- our own output, not untrusted XML


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_a_hostile_member_name_is_refused_or_rendered_inert_everywhere(api, client, key):
    value = STRINGS[key]
    response = _post_member(api, key, value)
    assert response.status_code < 500, response.content
    if key in MUST_REFUSE:
        assert response.status_code == 400, (response.status_code, response.content[:300])
    if response.status_code != 201:
        assert response.status_code == 400
        problem(response)
        assert not Member.objects.filter(external_ref=f"H-{key}").exists()
        return
    member = Member.objects.get(pk=response.json()["id"])
    assert "\x00" not in member.legal_name  # refused or stripped, never stored
    # The pages hold markup of their own (the embed snippet is an <img>): compare with a member
    # whose name is plain, so only markup that came from the name counts.
    plain = _public_answers(client, award(MemberFactory(issuer=api.issuer)))
    for kind, answer in _public_answers(client, award(member)).items():
        assert answer.status_code == 200, (kind, answer.status_code)
        if kind in ("page", "svg", "embed"):
            ours, theirs = plain[kind].content.lower(), answer.content.lower()
            for marker in ACTIVE_MARKUP:
                assert theirs.count(marker) <= ours.count(marker), (kind, marker)
        if kind == "svg":
            _assert_well_formed_svg(answer)
        if kind == "json":
            assert answer.json()["member"]  # the name survives, as data


@pytest.mark.parametrize("key", MUST_REFUSE)
def test_a_name_no_one_may_hold_is_a_clear_400_naming_the_field(api, key):
    body = problem(_post_member(api, key, STRINGS[key]))
    assert body["status"] == 400
    assert {error["field"] for error in body["errors"]} >= {"legal_name"}, body["errors"]
    assert not Member.objects.filter(external_ref=f"H-{key}").exists()


def _storable(value: str) -> bool:
    """Whether the database can hold ``value`` at all (a row written before any validation)."""
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 database column takes it
        return False
    return not (connection.vendor == "postgresql" and "\x00" in value)


@pytest.mark.parametrize("key", sorted(k for k, v in STRINGS.items() if _storable(v)))
def test_the_svg_of_an_existing_seal_is_well_formed_xml_whatever_its_member_is_called(client, key):
    """Rows from before the validation, or written by an import or the admin, still render."""
    value = STRINGS[key]
    seal = award(MemberFactory(legal_name=value[:300], display_name=value[:300]))
    for theme in ("light", "dark"):
        _assert_well_formed_svg(client.get(f"/s/{seal.public_id}.svg", {"theme": theme}))


def test_a_ten_thousand_character_name_is_a_clear_400(api):
    response = api.post("/members", {"external_ref": "long", "legal_name": STRINGS["ten-thousand"]})
    body = problem(response)
    assert response.status_code == 400 and body["errors"][0]["field"] == "legal_name"


@pytest.mark.parametrize("key", ["script", "attribute-break", "crlf", "nul", "ten-thousand"])
def test_hostile_query_values_and_headers_on_public_routes_never_break_them(client, key):
    seal = award(MemberFactory())
    value = STRINGS[key]
    sid = seal.public_id
    for path in (f"/s/{sid}.svg", f"/s/{sid}.png", f"/verify/{sid}"):
        # The page shows the seal image itself: markup of ours, counted on the plain answer.
        plain = client.get(path).content.lower()
        response = client.get(
            path,
            {"d": value, "lang": value, "size": value, "theme": value},
            HTTP_REFERER=f"https://{value}/",
            HTTP_ACCEPT_LANGUAGE=value[:200],
        )
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        assert not response.cookies
        if response["Content-Type"].startswith(("text/html", "image/svg")):
            for marker in ACTIVE_MARKUP:
                assert response.content.lower().count(marker) <= plain.count(marker), (
                    path,
                    marker,
                )


@pytest.mark.parametrize(
    "seal_id", ["../../etc/passwd", "%00", "A" * 5000, "\u202eabc", "' OR 1=1 --", "<script>"]
)
def test_a_malformed_seal_id_is_a_plain_404(client, seal_id, django_assert_num_queries):
    for template in ("/s/{}.svg", "/verify/{}", "/verify/{}.json", "/embed/{}"):
        with django_assert_num_queries(0):
            response = client.get(template.format(seal_id))
        assert response.status_code == 404
