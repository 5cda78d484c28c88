"""Printable certificate: ``GET /s/<seal_id>/certificate.pdf``, for members who show their seal
on paper (a shop window, a tender file).

An A4 page with the issuer's logo, the member, the programme, the validity, the seal image and
a QR code to the verification page. Paper cannot change when the seal does, so the page says
that the live status is the one behind the QR code, and shows the status on the day printed.

Cached like the seal images: strong ETag over everything drawn, ``max-age`` never past the
next scheduled change nor midnight UTC (the date is printed), no cookie, and the language only
from ``?lang=`` so one URL has one body.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache

import qrcode
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from qrcode.image.pil import PilImage
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from issuers.models import Issuer
from seals import i18n, public_views, snapshot
from seals.links import lang_query
from seals.render import Card, render
from seals.render.fonts import FONT_DIR
from seals.render.layout import status_words
from seals.snapshot_types import SealSnapshot

REGULAR, BOLD = "TrustsealSans", "TrustsealSans-Bold"
INK, MUTED, LINE = HexColor("#1f2328"), HexColor("#59636e"), HexColor("#d0d7de")


@cache
def _register_fonts() -> None:
    # The shipped Noto Sans covers Latin, Greek and Cyrillic; ReportLab has no text shaping,
    # so right-to-left scripts are not drawn here (the certificate is offered in the
    # left-to-right languages; Arabic requests get English, see ``certificate_language``).
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSans-Bold.ttf")))


def certificate_language(lang: str) -> str:
    return settings.LANGUAGE_CODE if lang in i18n.RTL_LANGUAGES else lang


def verification_url(seal_id: str, lang: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{seal_id}" + lang_query(
        None if lang == settings.LANGUAGE_CODE else lang, first=True
    )


def _qr_png(url: str) -> bytes:
    # Error correction M and a 4-module quiet zone: scans from a printout folded once.
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
        image_factory=PilImage,  # what qrcode picks with Pillow installed, named for the types
    )
    qr.add_data(url)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


def _issuer_logo(snap: SealSnapshot) -> bytes | None:
    if not snap.issuer.logo_version:
        return None
    raw = Issuer.objects.filter(pk=snap.issuer.pk).values_list("logo_png", flat=True).first()
    return bytes(raw) if raw else None


def _day(value: datetime | None) -> str:
    return i18n.long_day(value) if value else _("no end date")


def render_certificate(snap: SealSnapshot, *, status: str, day: date, lang: str) -> bytes:
    """The PDF bytes. Runs in the active language; ``lang`` only picks the QR code's link."""
    _register_fonts()
    out = io.BytesIO()
    # invariant: no creation time or random id in the file, so equal inputs give equal bytes.
    pdf = Canvas(out, pagesize=A4, invariant=1, pageCompression=1, lang=lang)
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    issuer, programme, member = snap.issuer, snap.programme, snap.member
    pdf.setTitle(_("Seal certificate") + f" · {member.display_name}")
    pdf.setAuthor(issuer.name)

    y = height - 25 * mm
    logo = _issuer_logo(snap)
    if logo:
        pdf.drawImage(
            ImageReader(io.BytesIO(logo)), left, y - 20 * mm, 20 * mm, 20 * mm,
            preserveAspectRatio=True, mask="auto",
        )  # fmt: skip
    pdf.setFillColor(MUTED)
    pdf.setFont(REGULAR, 11)
    text_x = left + (24 * mm if logo else 0)
    pdf.drawString(text_x, y - 8 * mm, _("Seal certificate"))
    pdf.setFillColor(INK)
    pdf.setFont(BOLD, 14)
    pdf.drawString(text_x, y - 15 * mm, _fit(issuer.name, BOLD, 14, right - text_x))
    y -= 30 * mm
    pdf.setStrokeColor(LINE)
    pdf.line(left, y, right, y)

    y -= 18 * mm
    pdf.setFont(REGULAR, 12)
    pdf.setFillColor(MUTED)
    pdf.drawCentredString(width / 2, y, _("This certifies that"))
    y -= 14 * mm
    pdf.setFillColor(INK)
    for line in simpleSplit(member.display_name, BOLD, 26, right - left)[:2]:
        pdf.setFont(BOLD, 26)
        pdf.drawCentredString(width / 2, y, line)
        y -= 11 * mm
    if member.legal_name and member.legal_name != member.display_name:
        pdf.setFont(REGULAR, 11)
        pdf.setFillColor(MUTED)
        pdf.drawCentredString(
            width / 2, y + 3 * mm, _fit(member.legal_name, REGULAR, 11, right - left)
        )
        y -= 6 * mm
    pdf.setFillColor(MUTED)
    pdf.setFont(REGULAR, 12)
    y -= 4 * mm
    pdf.drawCentredString(width / 2, y, _("holds the seal"))
    y -= 11 * mm
    pdf.setFillColor(INK)
    pdf.setFont(BOLD, 18)
    pdf.drawCentredString(width / 2, y, _fit(programme.name, BOLD, 18, right - left))
    y -= 9 * mm
    pdf.setFont(REGULAR, 12)
    pdf.setFillColor(MUTED)
    issued_by = _("issued by %(issuer)s") % {"issuer": issuer.name}
    pdf.drawCentredString(width / 2, y, _fit(issued_by, REGULAR, 12, right - left))

    y -= 16 * mm
    rows = [
        (_("Valid from"), _day(snap.valid_from)),
        (_("Valid until"), _day(snap.expires_at)),
        (_("Websites"), ", ".join(member.domains) or _("none registered")),
        (_("Status on %(date)s") % {"date": i18n.long_day(day)}, status_words()[status]),
        (_("Seal ID"), snap.public_id),
    ]
    for label, value in rows:
        pdf.setFont(REGULAR, 11)
        pdf.setFillColor(MUTED)
        pdf.drawString(left, y, label)
        pdf.setFillColor(INK)
        pdf.setFont(BOLD, 11)
        pdf.drawString(left + 60 * mm, y, _fit(value, BOLD, 11, right - left - 60 * mm))
        y -= 7.5 * mm

    # The seal as visitors see it, and the QR code to its live status.
    y -= 10 * mm
    seal_png = render(
        Card(
            state=status,
            issuer=issuer.name,
            programme=programme.name,
            member=member.display_name,
            checked=day,
            has_logo=bool(issuer.logo_version),
        ),
        fmt="png",
        size="large",
        theme="light",
        logo_png=snapshot.logo(snap),
    )
    qr_side = 45 * mm
    pdf.drawImage(ImageReader(io.BytesIO(seal_png)), left, y - 30 * mm, 90 * mm, 27 * mm)
    url = verification_url(snap.public_id, lang)
    pdf.drawImage(
        ImageReader(io.BytesIO(_qr_png(url))), right - qr_side, y - qr_side, qr_side, qr_side
    )

    y -= qr_side + 10 * mm
    pdf.setFillColor(INK)
    notice = _(
        "This certificate is a printout and does not change when the seal does. The live status "
        "of this seal is on the verification page behind the QR code:"
    )
    pdf.setFont(REGULAR, 11)
    for line in simpleSplit(notice, REGULAR, 11, right - left):
        pdf.drawString(left, y, line)
        y -= 5.5 * mm
    pdf.setFont(BOLD, 11)
    pdf.setFillColor(HexColor("#0550ae"))
    pdf.drawString(left, y, url)
    pdf.linkURL(url, (left, y - 2, right, y + 10), relative=0)

    pdf.setFillColor(MUTED)
    pdf.setFont(REGULAR, 8)
    pdf.drawString(left, 15 * mm, _("Trustseal verification service"))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _fit(text: str, font: str, size: float, max_width: float) -> str:
    if pdfmetrics.stringWidth(text, font, size) <= max_width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _language_view(view):
    """``?lang=`` only (like images), with right-to-left languages mapped to English."""

    def wrapper(request: HttpRequest, seal_id: str) -> HttpResponse:
        from django.utils import translation

        lang = certificate_language(i18n.image_language(request))
        with translation.override(lang):
            response = view(request, seal_id)
        response["Content-Language"] = lang
        return response

    return wrapper


@_language_view
def certificate_pdf(request: HttpRequest, seal_id: str) -> HttpResponse:
    snap = snapshot.get(seal_id)
    if snap is None:
        response = HttpResponse(
            _("Seal not found."), status=404, content_type="text/plain; charset=utf-8"
        )
        response["Cache-Control"] = f"public, max-age={public_views.MAX_AGE}"
        return public_views._finish(response)
    if snap.erased:
        # Its holder's data was erased: nothing left to print.
        response = HttpResponse(
            _("This seal is no longer valid."), status=410, content_type="text/plain; charset=utf-8"
        )
        response["Cache-Control"] = f"public, max-age={public_views.MAX_AGE}"
        return public_views._finish(response)
    now = timezone.now()
    status = snap.status_at(now)
    day = now.date()
    lang = get_language()
    etag = public_views._etag("certificate", seal_id, snap.digest, status, day, lang)
    if public_views._not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        body = public_views._cached_bytes(
            etag, lambda: render_certificate(snap, status=status, day=day, lang=lang)
        )
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="seal-{seal_id}.pdf"'
    response["ETag"] = etag
    response["Cache-Control"] = public_views.cache_control(now, snap.next_change(now))
    response["Surrogate-Key"] = response["Cache-Tag"] = f"seal-{seal_id}"
    return public_views._finish(response)
