"""Printable certificate: ``GET /s/<seal_id>/certificate.pdf``, for members who show their seal
on paper (a shop window, a tender file).

An A4 page in a guilloche frame: the issuer's logo, the member, the programme, the validity,
the websites, the credential's id, the seal image, a signature line and a QR code to the
verification page. Paper cannot change when the seal does, so the page says that the live
status is the one behind the QR code, and shows the status on the day printed. A seal that is
not valid that day never gets the "certifies that ... holds the seal" wording: its page says
what the seal was and that it is not valid now, with VOID (or SUSPENDED, EXPIRED, NOT YET
VALID) across it.

Every language of the public side is printed, Arabic right to left with joined letters
(``seals.certificate_text``).

Cached like the seal images: strong ETag over everything drawn, ``max-age`` never past the
next scheduled change nor midnight UTC (the date is printed), no cookie, and the language only
from ``?lang=`` so one URL has one body.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, datetime

import qrcode
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from qrcode.image.pil import PilImage
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from config.tenancy import scopes_disabled
from issuers.domains import display_domain
from issuers.models import Issuer
from seals import certificate_text as text
from seals import i18n, public_views, snapshot
from seals.credentials import credential_build
from seals.links import lang_query
from seals.models import Seal
from seals.render import Card, render
from seals.render.layout import status_words
from seals.snapshot_types import SealSnapshot

# Part of the ETag: a new layout must not be answered with a PDF cached for the old one.
LAYOUT = 2
INK, MUTED, NAVY = HexColor("#1f2328"), HexColor("#59636e"), HexColor("#1b3a5c")
GOLD, LINK, ALERT = HexColor("#b08d3c"), HexColor("#0550ae"), HexColor("#b3261e")
WIDTH, HEIGHT = A4
LEFT, RIGHT = 28 * mm, WIDTH - 28 * mm
CENTRE = WIDTH / 2


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


def credential_id(seal_id: str) -> str:
    """The ``id`` (and JWT ``jti``) of the credential the seal's record gives now: what a
    verifier sees in ``/s/<id>/credential.jwt``. It derives from the same facts as the
    snapshot's digest, so the ETag moves whenever it does."""
    with scopes_disabled():
        seal = Seal.objects.select_related("issuer", "programme", "member").get(public_id=seal_id)
        return str(credential_build(seal)["id"])


def _day(value: datetime | None) -> str:
    return i18n.long_day(value) if value else _("no end date")


def stamp_word(status: str) -> str | None:
    """What is printed across the page of a seal that is not valid; None for a valid one."""
    return {
        "revoked": _("VOID"),
        "suspended": _("SUSPENDED"),
        "expired": _("EXPIRED"),
        "pending": _("NOT YET VALID"),
    }.get(status)


def not_valid_sentence(snap: SealSnapshot, status: str) -> str:
    if status == "revoked":
        return _("This seal was revoked. It is no longer valid.")
    if status == "suspended":
        return _("This seal is suspended. It is not valid while the suspension lasts.")
    if status == "expired":
        return _("This seal expired on %(date)s. It is no longer valid.") % {
            "date": _day(snap.expires_at)
        }
    return _("This seal is valid only from %(date)s. It is not valid yet.") % {
        "date": _day(snap.valid_from)
    }


@dataclass(frozen=True)
class _Page:
    """The canvas and the reading direction: every x is given for left-to-right and mirrored
    here for right-to-left, so one layout serves both."""

    pdf: Canvas
    rtl: bool

    def x(self, value: float) -> float:
        return WIDTH - value if self.rtl else value

    def start(self) -> str:
        return "right" if self.rtl else "left"

    def write(self, x: float, y: float, value: str, size: float, *, bold: bool = False) -> float:
        """``value`` from ``x`` in the reading direction (``x`` already mirrored)."""
        return text.draw(self.pdf, x, y, value, size, bold=bold, rtl=self.rtl, align=self.start())

    def centred(self, y: float, value: str, size: float, *, bold: bool = False) -> None:
        fitted = text.fit(value, size, RIGHT - LEFT, bold=bold, rtl=self.rtl)
        text.draw(self.pdf, CENTRE, y, fitted, size, bold=bold, rtl=self.rtl, align="centre")


def _shrunk(
    value: str, size: float, max_width: float, *, bold: bool, rtl: bool
) -> tuple[float, str]:
    """A size down to 85% at which ``value`` fits, so a long date or id stays whole; past
    that, ``value`` cut with an ellipsis at the smallest size."""
    smallest = size * 0.85
    while size > smallest and text.width(value, size, bold=bold, rtl=rtl) > max_width:
        size = max(smallest, size - 0.25)
    return size, text.fit(value, size, max_width, bold=bold, rtl=rtl)


def _frame(pdf: Canvas) -> None:
    """A double rule with a guilloche band between: interlaced sine waves, vector lines only."""
    outer, inner, band = 10 * mm, 19 * mm, 14.5 * mm
    pdf.setStrokeColor(NAVY)
    pdf.setLineWidth(2.2)
    pdf.rect(outer, outer, WIDTH - 2 * outer, HEIGHT - 2 * outer)
    pdf.setLineWidth(0.8)
    pdf.rect(inner, inner, WIDTH - 2 * inner, HEIGHT - 2 * inner)
    corners = [
        (band, band),
        (WIDTH - band, band),
        (WIDTH - band, HEIGHT - band),
        (band, HEIGHT - band),
    ]
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(0.45)
    amplitude, step = 2.6 * mm, 0.6 * mm
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        length = math.hypot(x1 - x0, y1 - y0)
        # A whole number of periods per edge, so the waves meet themselves at the corners.
        periods = max(1, round(length / (9 * mm)))
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        nx, ny = -uy, ux
        points = int(length / step)
        for phase in (0.0, math.pi / 2, math.pi, 3 * math.pi / 2):
            path = pdf.beginPath()
            for i in range(points + 1):
                t = length * i / points
                offset = amplitude * math.sin(2 * math.pi * periods * t / length + phase)
                px, py = x0 + ux * t + nx * offset, y0 + uy * t + ny * offset
                path.moveTo(px, py) if i == 0 else path.lineTo(px, py)
            pdf.drawPath(path, stroke=1, fill=0)
    # A rosette over each corner, where the four edges' waves meet.
    pdf.setFillColor(white)
    for x, y in corners:
        pdf.setStrokeColor(NAVY)
        pdf.setLineWidth(0.8)
        pdf.circle(x, y, 3.4 * mm, stroke=1, fill=1)
        pdf.setStrokeColor(GOLD)
        pdf.circle(x, y, 2.1 * mm, stroke=1, fill=0)


def _ornament(pdf: Canvas, y: float) -> None:
    pdf.setStrokeColor(GOLD)
    pdf.setLineWidth(0.7)
    pdf.line(CENTRE - 32 * mm, y, CENTRE - 3 * mm, y)
    pdf.line(CENTRE + 3 * mm, y, CENTRE + 32 * mm, y)
    pdf.setFillColor(GOLD)
    path = pdf.beginPath()
    path.moveTo(CENTRE, y + 1.6 * mm)
    path.lineTo(CENTRE + 1.6 * mm, y)
    path.lineTo(CENTRE, y - 1.6 * mm)
    path.lineTo(CENTRE - 1.6 * mm, y)
    path.close()
    pdf.drawPath(path, stroke=0, fill=1)


def _stamp(page: _Page, word: str) -> None:
    """``word`` in large type across the page, drawn last so nothing covers it, and
    translucent so nothing under it is hidden."""
    pdf = page.pdf
    pdf.saveState()
    pdf.translate(CENTRE, HEIGHT * 0.52)
    pdf.rotate(45)
    size = 120.0
    while size > 30 and text.width(word, size, bold=True, rtl=page.rtl) > 190 * mm:
        size -= 4
    half = text.width(word, size, bold=True, rtl=page.rtl) / 2 + 6 * mm
    pdf.setFillColor(Color(ALERT.red, ALERT.green, ALERT.blue, alpha=0.32))
    pdf.setStrokeColor(Color(ALERT.red, ALERT.green, ALERT.blue, alpha=0.45))
    pdf.setLineWidth(3)
    pdf.roundRect(-half, -0.32 * size, 2 * half, 1.08 * size, 4 * mm, stroke=1, fill=0)
    text.draw(pdf, 0, 0, word, size, bold=True, rtl=page.rtl, align="centre")
    pdf.restoreState()


def render_certificate(
    snap: SealSnapshot, *, status: str, day: date, lang: str, credential: str
) -> bytes:
    """The PDF bytes, in the active language (``lang``, which also picks the QR code's link).
    ``credential`` is the credential's id (``credential_id``)."""
    out = io.BytesIO()
    # invariant: no creation time or random id in the file, so equal inputs give equal bytes.
    pdf = Canvas(out, pagesize=A4, invariant=1, pageCompression=1, lang=lang)
    page = _Page(pdf, rtl=lang in i18n.RTL_LANGUAGES)
    issuer, programme, member = snap.issuer, snap.programme, snap.member
    valid = status == "active"
    pdf.setTitle(_("Seal certificate") + f" · {member.display_name}")
    pdf.setAuthor(issuer.name)
    _frame(pdf)

    # Heading: logo, title, issuer.
    logo = _issuer_logo(snap)
    if logo:
        side = 18 * mm
        pdf.drawImage(
            ImageReader(io.BytesIO(logo)), CENTRE - side / 2, HEIGHT - 27 * mm - side, side, side,
            preserveAspectRatio=True, mask="auto",
        )  # fmt: skip
    y = HEIGHT - (56 if logo else 40) * mm
    pdf.setFillColor(NAVY)
    page.centred(y, _("Seal certificate").upper(), 24, bold=True)
    pdf.setFillColor(MUTED)
    page.centred(y - 8 * mm, issuer.name, 13)
    _ornament(pdf, y - 14 * mm)

    # The statement: what the seal certifies, or what it was and that it is not valid now.
    y -= 29 * mm
    pdf.setFillColor(MUTED)
    page.centred(y, _("This certifies that") if valid else _("This certificate was issued to"), 12)
    y -= 13 * mm
    pdf.setFillColor(INK)
    for line in text.wrap(
        member.display_name, 26, RIGHT - LEFT, bold=True, rtl=page.rtl, max_lines=2
    ):
        page.centred(y, line, 26, bold=True)
        y -= 10.5 * mm
    if member.legal_name and member.legal_name != member.display_name:
        pdf.setFillColor(MUTED)
        page.centred(y + 3.5 * mm, member.legal_name, 11)
        y -= 5 * mm
    pdf.setFillColor(MUTED)
    y -= 3 * mm
    page.centred(y, _("holds the seal") if valid else _("for the seal"), 12)
    y -= 10 * mm
    pdf.setFillColor(INK)
    page.centred(y, programme.name, 18, bold=True)
    y -= 8 * mm
    pdf.setFillColor(MUTED)
    page.centred(y, _("issued by %(issuer)s") % {"issuer": issuer.name}, 12)
    if not valid:
        y -= 10 * mm
        pdf.setFillColor(ALERT)
        sentence = not_valid_sentence(snap, status)
        for line in text.wrap(sentence, 13, RIGHT - LEFT, bold=True, rtl=page.rtl, max_lines=2):
            page.centred(y, line, 13, bold=True)
            y -= 6 * mm

    # The facts, label and value, from the reading side.
    y -= 12 * mm
    websites = ", ".join(display_domain(d) for d in member.domains) or _("none registered")
    rows = [
        (_("Valid from"), _day(snap.valid_from), INK),
        (_("Valid until"), _day(snap.expires_at), INK),
        (_("Websites"), websites, INK),
        (
            _("Status on %(date)s") % {"date": i18n.long_day(day)},
            status_words()[status],
            INK if valid else ALERT,
        ),
        (_("Seal ID"), snap.public_id, INK),
        (_("Credential ID"), credential, INK),
    ]
    label_width, value_x = 56 * mm, LEFT + 58 * mm
    for label, value, colour in rows:
        pdf.setFillColor(MUTED)
        size, fitted = _shrunk(label, 10.5, label_width, bold=False, rtl=page.rtl)
        page.write(page.x(LEFT), y, fitted, size)
        pdf.setFillColor(colour)
        size, fitted = _shrunk(value, 10.5, RIGHT - value_x, bold=True, rtl=page.rtl)
        page.write(page.x(value_x), y, fitted, size, bold=True)
        y -= 6.5 * mm

    # The seal as visitors see it, the signature line, and the QR code to the live status.
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
    seal_w, seal_h, qr_side = 66 * mm, 19.8 * mm, 36 * mm
    block_left = page.x(LEFT) - (seal_w if page.rtl else 0)
    pdf.drawImage(ImageReader(io.BytesIO(seal_png)), block_left, 64 * mm, seal_w, seal_h)
    url = verification_url(snap.public_id, lang)
    qr_left = page.x(RIGHT) - (0 if page.rtl else qr_side)
    pdf.drawImage(ImageReader(io.BytesIO(_qr_png(url))), qr_left, 50 * mm, qr_side, qr_side)

    pdf.setStrokeColor(INK)
    pdf.setLineWidth(0.7)
    pdf.line(block_left, 50 * mm, block_left + seal_w, 50 * mm)
    pdf.setFillColor(INK)
    sign_x = page.x(LEFT)
    if programme.signatory_name or programme.signatory_title:
        name = text.fit(programme.signatory_name, 11, seal_w, bold=True, rtl=page.rtl)
        page.write(sign_x, 45 * mm, name, 11, bold=True)
        pdf.setFillColor(MUTED)
        title = text.fit(programme.signatory_title, 9.5, seal_w, bold=False, rtl=page.rtl)
        page.write(sign_x, 40.5 * mm, title, 9.5)
    else:
        pdf.setFillColor(MUTED)
        page.write(sign_x, 45 * mm, text.fit(issuer.name, 10, seal_w, bold=False, rtl=page.rtl), 10)

    y = 35 * mm
    pdf.setFillColor(INK)
    notice = _(
        "This certificate is a printout and does not change when the seal does. The live status "
        "of this seal is on the verification page behind the QR code:"
    )
    for line in text.wrap(notice, 9, RIGHT - LEFT, bold=False, rtl=page.rtl, max_lines=3):
        page.write(page.x(LEFT), y, line, 9)
        y -= 4.2 * mm
    pdf.setFillColor(LINK)
    drawn = text.draw(pdf, page.x(LEFT), y, url, 9, bold=True, align=page.start())
    link_left = page.x(LEFT) - (drawn if page.rtl else 0)
    pdf.linkURL(url, (link_left, y - 2, link_left + drawn, y + 9), relative=0)

    pdf.setFillColor(MUTED)
    page.centred(21.5 * mm, _("Trustseal verification service"), 7)
    word = stamp_word(status)
    if word is not None:
        _stamp(page, word)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@i18n.speaks_query_language
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
    etag = public_views._etag("certificate", LAYOUT, seal_id, snap.digest, status, day, lang)
    if public_views._not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        body = public_views._cached_bytes(
            etag,
            lambda: render_certificate(
                snap, status=status, day=day, lang=lang, credential=credential_id(seal_id)
            ),
        )
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="seal-{seal_id}.pdf"'
    response["ETag"] = etag
    response["Cache-Control"] = public_views.cache_control(now, snap.next_change(now))
    response["Surrogate-Key"] = response["Cache-Tag"] = f"seal-{seal_id}"
    return public_views._finish(response)
