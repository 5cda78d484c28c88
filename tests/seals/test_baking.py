"""Baked badges (OB 3.0 §5.3): the credential in the PNG's iTXt chunk and the SVG's element,
read back by independent readers (Pillow, ElementTree) and verified."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from seals.baking import bake_png, bake_svg, extract_png, extract_svg
from seals.credentials import credential_jwt
from seals.verification import verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwcrypto_claims

pytestmark = pytest.mark.django_db
OB3 = "{https://purl.imsglobal.org/ob/v3p0}"


@pytest.fixture
def seal(issuer):
    return award(MemberFactory(issuer=issuer))


def _itxt_chunks(png: bytes) -> list[bytes]:
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        if png[offset + 4 : offset + 8] == b"iTXt":
            chunks.append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return chunks


def test_the_png_badge_carries_the_credential_in_an_uncompressed_itxt_chunk(seal, client):
    response = client.get(f"/s/{seal.public_id}/badge.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    token = credential_jwt(seal)
    (chunk,) = _itxt_chunks(response.content)
    # keyword NUL, compression flag 0, method 0, empty language tag and translated keyword.
    assert chunk == b"openbadgecredential\0\0\0\0\0" + token.encode()
    with Image.open(io.BytesIO(response.content)) as image:
        image.load()
        assert image.text["openbadgecredential"] == token
        assert image.size == (320, 96)
    assert verify_jwt(extract_png(response.content)).valid
    assert jwcrypto_claims(token, client.get(f"/issuers/{seal.issuer.slug}/jwks.json").json())


def test_the_svg_badge_carries_the_credential_as_the_roots_first_child(seal, client):
    response = client.get(f"/s/{seal.public_id}/badge.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # noqa: S314 - our own SVG, in a test
    first = root[0]
    assert first.tag == f"{OB3}credential"
    assert first.attrib["verify"] == credential_jwt(seal)
    assert verify_jwt(extract_svg(response.content)).valid


def test_the_plain_seal_images_carry_no_credential(seal, client):
    png = client.get(f"/s/{seal.public_id}.png?size=large").content
    svg = client.get(f"/s/{seal.public_id}.svg?size=large").content
    assert _itxt_chunks(png) == [] and b"openbadges" not in svg
    badge = client.get(f"/s/{seal.public_id}/badge.png").content
    # The badge is that same image plus one chunk: the hot path's bytes are untouched.
    token = credential_jwt(seal).encode()
    assert len(badge) == len(png) + 12 + len(b"openbadgecredential\0\0\0\0\0") + len(token)


def test_baking_twice_keeps_one_credential():
    png = Image.new("RGB", (4, 4))
    buffer = io.BytesIO()
    png.save(buffer, format="PNG")
    baked = bake_png(bake_png(buffer.getvalue(), "a.b.c"), "d.e.f")
    assert len(_itxt_chunks(baked)) == 1 and extract_png(baked) == "d.e.f"


def test_the_svg_credential_is_escaped_and_the_namespace_declared_once():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect/></svg>'
    baked = bake_svg(svg, 'x"><script/>')
    root = ET.fromstring(baked)  # noqa: S314 - a literal built here
    assert root[0].attrib["verify"] == 'x"><script/>' and root[1].tag.endswith("rect")
    assert baked.count(b"xmlns:openbadges") == 1


def test_the_verification_page_offers_both_badges(seal, client):
    page = client.get(f"/verify/{seal.public_id}").content.decode()
    assert f'href="http://127.0.0.1:8000/s/{seal.public_id}/badge.png"' in page
    assert f'href="http://127.0.0.1:8000/s/{seal.public_id}/badge.svg"' in page
    assert f"/s/{seal.public_id}/credential.json" in page
