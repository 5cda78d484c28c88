"""GET /s/<id>/certificate.pdf: the printable certificate, its languages, its QR code round trip,
and what it says of a seal that is not valid."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
import time_machine
import zxingcpp
from django.conf import settings
from PIL import Image, ImageDraw

from issuers.services import programme_default
from seals.certificate import credential_id, render_certificate
from seals.credentials import credential_build
from seals.registry import issuer_logo_set
from seals.services import seal_revoke
from tests.factories import IssuerFactory, MemberFactory, award
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: apt-get install -y poppler-utils (.ci/run does)")
    return found


def _pdf_text(pdf: bytes, tmp_path: Path, *options: str) -> str:
    """The page's text; by default laid out, without the diagonal stamp across the page (whose
    letters would land between the lines). Arabic comes back in presentation forms, which
    NFKC maps to the letters as typed."""
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    args = [_tool("pdftotext"), *(options or ("-layout", "-nodiag")), str(path), "-"]
    out = subprocess.run(args, capture_output=True, check=True, text=True).stdout  # noqa: S603
    return unicodedata.normalize("NFKC", out)


def _words(pdf: bytes, tmp_path: Path) -> str:
    # Bidi marks pdftotext puts around right-to-left runs are not words.
    text = "".join(ch for ch in _pdf_text(pdf, tmp_path) if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def _letters(text: str) -> str:
    """Words only: no vowel marks (the certificate leaves them out, see
    seals.certificate_text) and no punctuation (pdftotext guesses where a full stop between
    two right-to-left sentences goes, and may guess wrong)."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "MP")
    return " ".join(kept.split())


def _stamp(pdf: bytes, tmp_path: Path) -> str:
    """The letters of the diagonal stamp: all the text less the text that is not diagonal
    (the stamp is drawn last, so it is what follows). pdftotext does not reorder diagonal
    text, so a right-to-left stamp comes back in drawing order: it is turned back here."""
    everything = _pdf_text(pdf, tmp_path, "-raw")
    straight = _pdf_text(pdf, tmp_path, "-raw", "-nodiag").rstrip("\f\n")
    assert everything.startswith(straight)
    letters = "".join(ch for ch in everything[len(straight) :] if ch.isalpha())
    rtl = any(unicodedata.bidirectional(ch) == "AL" for ch in letters)
    return letters[::-1] if rtl else letters


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


def test_an_arabic_certificate_is_in_arabic_with_joined_letters_in_reading_order(client, tmp_path):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}/certificate.pdf?lang=ar")
    assert response.status_code == 200
    assert response["Content-Language"] == "ar"
    path = tmp_path / "c.pdf"
    path.write_bytes(response.content)
    raw = subprocess.run(  # noqa: S603 - our own arguments and temp file
        [_tool("pdftotext"), "-raw", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    # Drawn as joined (presentation) forms: the initial, medial and final shapes of the letters
    # of "شهادة" (certificate), not the isolated letters an unshaped string would show.
    assert "\ufeb7\ufeec\ufe8e\ufea9\ufe93" in raw
    words = _words(response.content, tmp_path)
    # pdftotext reads them back in logical order only if they were drawn in visual order.
    assert "شهادة الختم" in words
    assert "تشهد هذه الوثيقة بأن" in words
    assert "يحمل الختم" in words
    assert f"الصادر عن {seal.issuer.name}" in words
    assert "This certifies" not in words


def _word_lefts(pdf: bytes, tmp_path: Path) -> dict[str, float]:
    """Each word's left edge in points. Words come in drawing order, so a right-to-left word
    is turned back to reading order."""
    html = _pdf_text(pdf, tmp_path, "-bbox")
    found = {}
    for left, word in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>', html):
        rtl = any(unicodedata.bidirectional(ch) == "AL" for ch in word)
        found.setdefault(word[::-1] if rtl else word, float(left))
    return found


def test_an_arabic_certificate_reads_from_the_right(client, tmp_path):
    seal = seal_in("active")
    arabic = _word_lefts(
        client.get(f"/s/{seal.public_id}/certificate.pdf?lang=ar").content, tmp_path
    )
    english = _word_lefts(client.get(f"/s/{seal.public_id}/certificate.pdf").content, tmp_path)
    middle = 595.28 / 2
    # The facts' labels sit against the right margin in Arabic, the left one in English.
    assert arabic["المواقع"] > middle + 150  # "Websites"
    assert english["Websites"] < middle - 150
    # Values end where labels begin, on the reading side of them.
    assert arabic["shop.example"] < arabic["المواقع"]
    assert english["shop.example"] > english["Websites"]


STAMPS = {
    "revoked": ("VOID", "This seal was revoked. It is no longer valid."),
    "suspended": (
        "SUSPENDED",
        "This seal is suspended. It is not valid while the suspension lasts.",
    ),
    "expired": ("EXPIRED", "This seal expired on Nov. 17, 2026. It is no longer valid."),
    "pending": ("NOTYETVALID", "This seal is valid only from Nov. 27, 2026. It is not valid yet."),
}


@pytest.mark.parametrize("status", sorted(STAMPS))
def test_a_seal_that_is_not_valid_gets_a_certificate_that_says_so(client, tmp_path, status):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in(status)
        response = client.get(f"/s/{seal.public_id}/certificate.pdf")
    word, sentence = STAMPS[status]
    words = _words(response.content, tmp_path)
    assert _stamp(response.content, tmp_path) == word
    assert sentence in words
    assert "This certifies" not in words
    assert "holds the seal" not in words
    assert f"This certificate was issued to {seal.member.display_name}" in words


def test_a_valid_seal_has_no_stamp(client, tmp_path):
    seal = seal_in("active")
    pdf = client.get(f"/s/{seal.public_id}/certificate.pdf").content
    assert _stamp(pdf, tmp_path) == ""
    assert "This certifies that" in _words(pdf, tmp_path)


def test_a_revoked_arabic_certificate_says_so_in_arabic(client, tmp_path):
    seal = seal_in("revoked")
    pdf = client.get(f"/s/{seal.public_id}/certificate.pdf?lang=ar").content
    words = _words(pdf, tmp_path)
    assert _stamp(pdf, tmp_path) == "ملغى"
    assert _letters("أُلغي هذا الختم. لم يعد صالحًا.") in _letters(words)
    assert "تشهد هذه الوثيقة بأن" not in words
    assert "صدرت هذه الشهادة لـ" in words


def test_an_internationalised_domain_is_printed_in_unicode(client, tmp_path):
    seal = seal_in("active", MemberFactory(domains=["xn--bckerei-5wa.example", "shop.example"]))
    words = _words(client.get(f"/s/{seal.public_id}/certificate.pdf").content, tmp_path)
    assert "Websites bäckerei.example, shop.example" in words
    assert "xn--" not in words


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es", "ar"])
def test_every_label_and_value_is_printed_whole_in_every_language(client, tmp_path, lang):
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        seal = seal_in(
            "expired", MemberFactory(domains=["shop.example", "xn--bckerei-5wa.example"])
        )
        pdf = client.get(f"/s/{seal.public_id}/certificate.pdf?lang={lang}").content
    words = _words(pdf, tmp_path)
    assert "..." not in words  # NFKC of the ellipsis that marks a cut
    assert seal.public_id in words


def test_a_name_too_long_for_two_lines_is_cut_with_an_ellipsis(client, tmp_path):
    name = "Bäckerei und Konditorei " + " ".join(["Zuckerbäckermeisterbetrieb"] * 6)
    seal = seal_in("active", MemberFactory(display_name=name))
    words = _words(client.get(f"/s/{seal.public_id}/certificate.pdf").content, tmp_path)
    # Two lines of the name, the second ending in an ellipsis (NFKC: "..."), then the legal name.
    assert re.search(
        r"This certifies that Bäckerei und Konditorei Zuckerbäckermeisterbetrieb \S*\.\.\. "
        + re.escape(seal.member.legal_name + " holds the seal"),
        words,
    )
    assert name not in words


def test_the_signatory_of_the_programme_signs_it_and_a_change_is_a_new_etag(
    client, tmp_path, django_capture_on_commit_callbacks
):
    from seals.registry import programme_update

    seal = seal_in("active")
    unsigned = client.get(f"/s/{seal.public_id}/certificate.pdf")
    # No signatory: the line is labelled with the issuer (heading, "issued by", the line).
    assert _words(unsigned.content, tmp_path).count(seal.issuer.name) == 3
    with django_capture_on_commit_callbacks(execute=True):
        programme_update(
            programme=seal.programme, signatory_name="Ada Byron", signatory_title="Registrar"
        )
    signed = client.get(f"/s/{seal.public_id}/certificate.pdf")
    words = _words(signed.content, tmp_path)
    assert "Ada Byron Registrar" in words
    assert words.count(seal.issuer.name) == 2
    assert signed["ETag"] != unsigned["ETag"]


def test_it_prints_the_id_of_the_credential_the_seal_publishes(client, tmp_path):
    seal = seal_in("active")
    words = _words(client.get(f"/s/{seal.public_id}/certificate.pdf").content, tmp_path)
    token = client.get(f"/s/{seal.public_id}/credential.jwt").content.decode()
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert jti == credential_build(seal)["id"] == credential_id(seal.public_id)
    assert jti.startswith("urn:uuid:")
    assert f"Credential ID {jti}" in words


def test_signing_as_the_issuer_did_prints_the_new_credential_id_under_a_new_etag(
    client, tmp_path, django_capture_on_commit_callbacks
):
    from seals.registry import issuer_credentials_use_did_set

    seal = seal_in("active")
    before = client.get(f"/s/{seal.public_id}/certificate.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        issuer_credentials_use_did_set(issuer=seal.issuer, enabled=True)
    after = client.get(f"/s/{seal.public_id}/certificate.pdf")
    seal.issuer.refresh_from_db()
    new_id = credential_build(seal)["id"]
    assert after["ETag"] != before["ETag"]
    assert f"Credential ID {new_id}" in _words(after.content, tmp_path)
    assert new_id not in _words(before.content, tmp_path)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_equal_inputs_give_equal_bytes(lang):
    from django.utils import translation

    from seals import snapshot

    with time_machine.travel(NOON, tick=False):
        seal = seal_in("revoked")
        snap = snapshot.get(seal.public_id)
        with translation.override(lang):
            first, second = (
                render_certificate(
                    snap, status="revoked", day=NOON.date(), lang=lang, credential="urn:uuid:x"
                )
                for _ in range(2)
            )
    assert first == second
    assert first.startswith(b"%PDF")


def _logo() -> bytes:
    image = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 124, 124), fill="#1b3a5c")
    draw.ellipse((22, 22, 106, 106), outline="#b08d3c", width=8)
    draw.polygon([(64, 34), (94, 64), (64, 94), (34, 64)], fill="#b08d3c")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_docs_images_of_an_english_valid_and_an_arabic_revoked_certificate(client, tmp_path):
    """Renders the two pages docs/public.md shows; ``TRUSTSEAL_WRITE_DOCS_IMAGES=1`` writes
    them to docs/images/ (review the PNGs before committing them)."""
    with time_machine.travel(NOON, tick=False):
        issuer = issuer_logo_set(
            issuer=IssuerFactory(name="Guild of Careful Bakers", slug="guild"), data=_logo()
        )
        programme = programme_default(issuer)
        programme.name, programme.signatory_name = "Accredited Member", "Ada Byron"
        programme.signatory_title = "Registrar"
        programme.save()
        valid = award(
            MemberFactory(
                issuer=issuer,
                display_name="Lovelace Bakery",
                legal_name="Lovelace Analytical Bakery Ltd",
                domains=["lovelace-bakery.example", "xn--bckerei-5wa.example"],
            )
        )
        revoked = seal_revoke(
            seal=award(
                MemberFactory(
                    issuer=issuer,
                    display_name="مخبز النخيل",
                    legal_name="شركة مخبز النخيل المحدودة",
                    domains=["palm-bakery.example"],
                )
            ),
            reason="fraud",
            actor="test",
        )
        pages = {
            "certificate-en-valid.png": client.get(f"/s/{valid.public_id}/certificate.pdf"),
            "certificate-ar-revoked.png": client.get(
                f"/s/{revoked.public_id}/certificate.pdf?lang=ar"
            ),
        }
    out = Path(settings.BASE_DIR) / "docs" / "images"
    for name, response in pages.items():
        folder = tmp_path / name
        folder.mkdir()
        image = _pdf_png(response.content, folder)
        assert abs(image.width - 1240) <= 1
        if os.environ.get("TRUSTSEAL_WRITE_DOCS_IMAGES") == "1":
            out.mkdir(exist_ok=True)
            image.convert("RGB").quantize(64).save(out / name, optimize=True)
    assert "مخبز النخيل" in _words(pages["certificate-ar-revoked.png"].content, tmp_path)


def test_an_unknown_seal_is_a_404_without_a_pdf(client):
    response = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA/certificate.pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
