"""GET /s/<id>/certificate.pdf: the printable certificate and its QR code round trip."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
import zxingcpp
from django.conf import settings
from PIL import Image

from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: apt-get install -y poppler-utils (.ci/run does)")
    return found


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    args = [_tool("pdftotext"), "-layout", str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout  # noqa: S603


def _pdf_png(pdf: bytes, tmp_path: Path) -> Image.Image:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    args = [_tool("pdftoppm"), "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "p")]
    subprocess.run(args, check=True)  # noqa: S603 - our own arguments and temp file
    return Image.open(tmp_path / "p.png")


def test_the_qr_code_leads_back_to_the_verification_page(client, tmp_path):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}/certificate.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    page = _pdf_png(response.content, tmp_path)
    # A4 (210 x 297 mm) at 150 dpi, give or take poppler's rounding.
    assert abs(page.width - 1240) <= 1 and abs(page.height - 1754) <= 1
    codes = [c for c in zxingcpp.read_barcodes(page) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert [c.text for c in codes] == [f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}"]


def test_a_language_certificate_links_to_the_page_in_that_language(client, tmp_path):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}/certificate.pdf?lang=fr")
    assert response["Content-Language"] == "fr"
    codes = zxingcpp.read_barcodes(_pdf_png(response.content, tmp_path))
    assert [c.text for c in codes] == [
        f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}?lang=fr"
    ]
    text = _pdf_text(response.content, tmp_path)
    assert "Le présent certificat atteste que" in text


def test_it_names_member_programme_issuer_validity_and_where_the_live_status_is(client, tmp_path):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in("suspended")
        response = client.get(f"/s/{seal.public_id}/certificate.pdf")
    text = " ".join(_pdf_text(response.content, tmp_path).split())
    assert seal.member.display_name in text
    assert seal.programme.name in text
    assert f"issued by {seal.issuer.name}" in text
    assert "Valid from Nov. 22, 2026" in text
    assert "Valid until Nov. 22, 2027" in text
    assert "Status on Nov. 22, 2026 Suspended" in text
    assert "The live status of this seal is on the verification page behind the QR code" in text


def test_it_is_cacheable_like_the_images_and_sets_no_cookie(client):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in("active")
        first = client.get(f"/s/{seal.public_id}/certificate.pdf")
        again = client.get(f"/s/{seal.public_id}/certificate.pdf", HTTP_IF_NONE_MATCH=first["ETag"])
    assert first["Cache-Control"].startswith("public, max-age=")
    assert int(first["Cache-Control"].split("max-age=")[1].split(",")[0]) <= 60
    assert "Accept-Language" not in first.get("Vary", "")
    assert not first.cookies
    assert again.status_code == 304


def test_an_arabic_request_gets_the_english_certificate(client):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}/certificate.pdf?lang=ar")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"


def test_an_unknown_seal_is_a_404_without_a_pdf(client):
    response = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA/certificate.pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
