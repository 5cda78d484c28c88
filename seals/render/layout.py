"""The seal's design, once: geometry, colours, icons and fitted text for every size, theme,
status and scale. ``svg.py`` and ``png.py`` only paint what ``build`` returns, so both formats
show the same thing.

The badge: on the left a rosette in the programme's accent colour holding the issuer's logo
(or the status icon) on a white disc; on the right the member's name, the programme's wording
and the issuer, above a status band in the status colour that carries the status icon, word,
date and "Click to verify". Every text is at least 9 px at 1x (what does not fit a size is
left out, never shrunk) and every text colour is at least 4.5:1 against what it is drawn on
(tests/seals/test_render.py computes it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypeVar, cast

from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

from issuers.text import refused
from seals import i18n
from seals.render import fonts

# Bump when the drawing changes: it is part of every image ETag and cache key.
# 3: names cleaned of characters XML 1.0 forbids; right-to-left lines anchored at their end.
# 4: the badge (rosette, logo, wording, status band, "Click to verify"), scales, embedded font.
# 5: the misuse card names the site it is shown on.
DESIGN_VERSION = "5"

SIZES: dict[str, tuple[int, int]] = {"small": (160, 48), "medium": (240, 72), "large": (320, 96)}
THEMES = ("light", "dark")
# Device-pixel ratios a PNG is drawn at (``?scale=``): the embed's srcset offers all three.
SCALES = (1, 2, 3)
NOT_FOUND = "not_found"
MISUSE = "misuse"
# A seal whose holder's data was erased: the card names nobody (an erased holder must not be
# named again, even as a former member), only the state.
NO_LONGER_VALID = "no_longer_valid"
# The record could not be read (database unreachable): neither valid nor invalid, names nobody.
UNKNOWN = "unknown"
MIN_TEXT_PX = 9  # nothing smaller is legible on a 1x screen
DEFAULT_ACCENT = "#1f6feb"
WHITE = "#ffffff"

# The status band's colour per theme; white text and icon on it pass WCAG AA (≥ 4.5:1), and
# the light one, drawn as the status icon on the logo disc (white), does too. Colour is never
# alone: each state has its own icon and word too.
_STATUS_COLOURS = {
    # status: (band on light, band on dark)
    "active": ("#1a7f37", "#1a7f37"),
    "pending": ("#0969da", "#0969da"),
    "expired": ("#59636e", "#59636e"),
    "suspended": ("#9a6700", "#8a5c00"),
    "revoked": ("#cf222e", "#c71f2a"),
    MISUSE: ("#bc4c00", "#b04700"),
    NOT_FOUND: ("#59636e", "#59636e"),
    NO_LONGER_VALID: ("#cf222e", "#c71f2a"),
    UNKNOWN: ("#59636e", "#59636e"),
}
_THEME = {
    "light": {"bg": "#ffffff", "border": "#d0d7de", "text": "#1f2328", "muted": "#59636e"},
    "dark": {"bg": "#0d1117", "border": "#30363d", "text": "#e6edf3", "muted": "#9198a1"},
}


def _luminance(colour: str) -> float:
    """Relative luminance (WCAG 2.2, §1.4.3 definitions)."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(colour: str, towards: str, t: float) -> str:
    parts = [
        round(int(colour[i : i + 2], 16) * (1 - t) + int(towards[i : i + 2], 16) * t)
        for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{p:02x}" for p in parts)


def accent_on(accent: str, bg: str, minimum: float = 3.0) -> str:
    """The programme's accent as drawn on ``bg``: itself when it stands out at least 3:1 (WCAG
    1.4.11, graphical objects), else moved towards black or white until it does, so a pale
    accent on the light card (or a dark one on the dark card) still draws the rosette."""
    if len(accent) != 7 or accent[0] != "#":
        accent = DEFAULT_ACCENT
    try:
        int(accent[1:], 16)
    except ValueError:
        accent = DEFAULT_ACCENT
    accent = accent.lower()
    towards = "#000000" if _luminance(bg) > 0.5 else WHITE
    t, shown = 0.0, accent
    while contrast(shown, bg) < minimum and t < 1:
        t = min(1.0, t + 0.05)
        shown = _mix(accent, towards, t)
    return shown


def clean_text(text: str) -> str:
    """A stored name as the seal shows it: whitespace runs (line breaks and the whitespace
    controls included, as ``str.split`` sees them) collapsed to one space, and every character
    the input rule refuses (issuers.text: controls, lone surrogates, noncharacters, which XML 1.0
    forbids or discourages) dropped, for names stored before that rule existed. The one
    text-preparation step for everything drawn (SVG, PNG) and for the image's label and alt
    text."""
    words = ("".join(ch for ch in word if not refused(ch, multiline=True)) for word in text.split())
    return " ".join(word for word in words if word)


def status_words() -> dict[str, str]:
    return {
        "active": _("Valid"),
        "pending": _("Not yet valid"),
        "expired": _("Expired"),
        "suspended": _("Suspended"),
        "revoked": _("Revoked"),
        MISUSE: _("Not verified for this site"),
        NOT_FOUND: _("Seal not found"),
        NO_LONGER_VALID: _("No longer valid"),
        UNKNOWN: _("Status unknown"),
    }


def call_to_action() -> str:
    return _("Click to verify")


@dataclass(frozen=True)
class Card:
    """What the image says. ``state`` is an effective status, ``misuse``, ``not_found`` or
    ``no_longer_valid`` (the last two name nobody)."""

    state: str
    issuer: str = ""
    programme: str = ""
    member: str = ""
    checked: date | None = None
    has_logo: bool = False
    # The programme's design: its wording (the programme's name when blank) and accent colour.
    wording: str = ""
    accent: str = DEFAULT_ACCENT
    # The foreign site a ``misuse`` card is shown on, as people read it (Unicode, ``:port``
    # when not the default; seals.shown_on.display_host), or "" to name none.
    site: str = ""


def not_valid_on(site: str) -> str:
    return _("Not valid on %(host)s") % {"host": site}


def _site_line(site: str, size: float, room: float) -> str:
    """ "Not valid on <site>" fitted to ``room`` at ``size``: the site cut in its middle when
    it is long, "" when too little of it would be left to name it (seals.render.fonts)."""
    whole = not_valid_on(site)
    if fonts.text_width(whole, size, False) <= room:
        return whole
    budget = room - fonts.text_width(not_valid_on(""), size, False)
    while budget > 0:
        cut = fonts.fit_middle(site, size, False, budget)
        if not cut:
            return ""
        line = not_valid_on(cut)
        if fonts.text_width(line, size, False) <= room:
            return line
        budget -= 1  # the phrase's pieces kerned against each other: a pixel less room
    return ""


# What separates the status word from "checked <date>": a character, not a pixel offset, so a
# browser drawing the SVG with its own fonts keeps the gap whatever the width of the word.
GAP = "\u2002"  # EN SPACE


@dataclass
class Text:
    x: float  # left end, measured with the shipped faces (also in right-to-left drawings)
    y: float  # baseline
    text: str
    size: float
    colour: str
    bold: bool = False
    # Continues the previous text on its line after one GAP (at this text's size): the SVG
    # painter writes both into one <text>, so the browser flows them and they cannot collide.
    joined: bool = False
    # What the text is drawn on (its contrast is checked against it).
    on: str = WHITE
    # The right end of the room the line has (the band's rows stop before the band's icon).
    end: float = 0.0

    @property
    def width(self) -> float:
        return fonts.text_width(self.text, self.size, self.bold)

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom): the advance horizontally, the glyphs' ink vertically."""
        top, bottom = fonts.ink_rows(self.text, self.size, self.bold)
        return self.x, self.y + top, self.x + self.width, self.y + bottom


@dataclass(frozen=True)
class Shapes:
    """Everything drawn but the logo and the text: hashable, so the PNG painter keeps one
    rendered background per distinct value (sizes x scales x themes x states x accents)."""

    width: int
    height: int
    bg: str
    border: str
    radius: float
    accent: str  # the rosette
    emblem: tuple[float, float, float]  # centre x, centre y, outer radius of the rosette
    disc: float  # radius of the white disc inside it
    disc_icon: str  # drawn on the disc in ``band_colour`` when there is no logo, else ""
    band: tuple[float, float, float, float]  # x, y, w, h of the status band
    band_colour: str
    icon: str  # one of ICONS, white on the band
    icon_box: tuple[float, float, float]  # centre x, centre y, radius


@dataclass
class Drawing:
    shapes: Shapes
    logo_box: tuple[float, float, float] | None  # x, y, side
    texts: list[Text] = field(default_factory=list)
    clip: tuple[float, float, float, float] = (0, 0, 0, 0)  # text column x, y, w, h
    label: str = ""  # the whole card as one sentence: SVG <title>, alt text
    rtl: bool = False  # lines end at their room's right edge (SVG anchors them there)
    scale: float = 1.0

    @property
    def width(self) -> int:
        return self.shapes.width

    @property
    def height(self) -> int:
        return self.shapes.height


ICONS = {
    "active": "check",
    "pending": "clock",
    "expired": "hourglass",
    "suspended": "pause",
    "revoked": "cross",
    MISUSE: "warning",
    NOT_FOUND: "question",
    NO_LONGER_VALID: "cross",
    UNKNOWN: "question",
}


@dataclass(frozen=True)
class _Metrics:
    """One size's geometry (pixels at 1x) and type sizes (none under MIN_TEXT_PX)."""

    name: float  # member name, bold
    wording: float | None  # None: left out at this size
    issuer: float | None
    word: float  # status word, bold
    tail: float | None  # "checked <date>"
    cta: float
    rows: tuple[float, float, float]  # baselines of name, wording, issuer
    band_top: float
    band_rows: tuple[float, float]  # baselines in the band, from its top


# Rows 11-12 px apart at 9-12 px type, and the band's two rows as far apart as its height
# allows: Arabic reaches ~1.3 em above its baseline (a lam with a shadda), Latin ~1.1 em.
_METRICS = {
    "small": _Metrics(11, None, None, 10, None, 9, (12, 0, 0), 17, (13, 24.5)),
    "medium": _Metrics(12, 10, 9, 10, 9, 9, (14, 26, 37), 40.5, (13, 24.5)),
    "large": _Metrics(16, 13, 11, 13, 11, 11, (19, 35, 49.5), 54.5, (16.5, 32)),
}


def build(card: Card, *, size: str, theme: str, scale: float = 1) -> Drawing:
    """The drawing at 1x, laid out (text fitted, lines cut) once; ``scale`` multiplies every
    coordinate afterwards, so a 2x or 3x PNG shows exactly what the 1x one shows."""
    card = replace(
        card,
        issuer=clean_text(card.issuer),
        programme=clean_text(card.programme),
        member=clean_text(card.member),
        wording=clean_text(card.wording),
        site=clean_text(card.site) if card.state == MISUSE else "",
    )
    width, height = SIZES[size]
    m = _METRICS[size]
    palette = _THEME[theme]
    band_colour = _STATUS_COLOURS[card.state][0 if theme == "light" else 1]
    nobody = card.state in (NOT_FOUND, NO_LONGER_VALID, UNKNOWN)
    accent = accent_on(palette["muted"] if nobody else card.accent, palette["bg"])
    pad = 4 * height / 72
    r = height / 2 - pad
    emblem = (pad + r, height / 2, r)
    disc = r * 0.8
    x0 = 2 * (pad + r) + 2 * pad
    right = width - 1.5 * pad
    band = (x0, m.band_top, right - x0, height - pad - m.band_top)
    bx, by, bw, bh = band
    icon_r = min(bh * 0.3, 9 * height / 72)
    icon_box = (bx + icon_r + 0.5 * pad + 2, by + bh / 2, icon_r)
    tx = icon_box[0] + icon_r + pad  # band text start
    band_end = bx + bw - pad
    has_logo = card.has_logo and not nobody
    shapes = Shapes(
        width=width,
        height=height,
        bg=palette["bg"],
        border=palette["border"],
        radius=6 * height / 72,
        accent=accent,
        emblem=emblem,
        disc=disc,
        disc_icon="" if has_logo else ICONS[card.state],
        band=band,
        band_colour=band_colour,
        icon=ICONS[card.state],
        icon_box=icon_box,
    )
    side = disc * 1.3
    drawing = Drawing(
        shapes=shapes,
        logo_box=(emblem[0] - side / 2, emblem[1] - side / 2, side) if has_logo else None,
        clip=(x0, 0, right - x0, height),
    )

    def line(y: float, text: str, size: float, colour: str, bold: bool = False) -> Text:
        return Text(x0, y, fonts.fit(text, size, bold, right - x0), size, colour, bold, end=right)

    def band_line(y: float, text: str, size: float, bold: bool = False) -> Text:
        fitted = fonts.fit(text, size, bold, band_end - tx)
        return Text(tx, by + y, fitted, size, WHITE, bold, on=band_colour, end=band_end)

    word = status_words()[card.state]
    text = palette["text"]
    muted = palette["muted"]
    bg = palette["bg"]
    if nobody:
        drawing.texts = [
            replace(line(m.rows[0], _("Trustseal"), m.name, text, True), on=bg),
            band_line(m.band_rows[0], word, m.word, True),
        ]
        if card.state == NO_LONGER_VALID:
            drawing.texts.append(band_line(m.band_rows[1], call_to_action(), m.cta))
        drawing.label = word
        return _finish(drawing, scale)
    checked = i18n.image_day(card.checked) if card.checked else ""
    tail = _("checked %(date)s") % {"date": checked}
    texts = [replace(line(m.rows[0], card.member, m.name, text, True), on=bg)]
    if m.wording:
        texts.append(
            replace(line(m.rows[1], card.wording or card.programme, m.wording, text), on=bg)
        )
    # On a misuse card the site it is shown on takes the issuer's row (the issuer is still in
    # the label): where there is no such row (small), or too little of the host would be
    # left, the band's "Not verified for this site" says it alone.
    site_line = _site_line(card.site, m.issuer, right - x0) if card.site and m.issuer else ""
    if site_line and m.issuer:
        # Lifted off the band when its script reaches lower than a name's (Arabic's "غير").
        _top, bottom = fonts.ink_rows(site_line, m.issuer, False)
        y = min(m.rows[2], m.band_top - bottom - 0.5)
        texts.append(Text(x0, y, site_line, m.issuer, text, on=bg, end=right))
    elif m.issuer:
        texts.append(replace(line(m.rows[2], card.issuer, m.issuer, muted), on=bg))
    status = band_line(m.band_rows[0], word, m.word, True)
    texts.append(status)
    if m.tail and card.state != MISUSE and card.checked:
        tail_x = status.x + status.width + fonts.text_width(GAP, m.tail, False)
        room = band_end - tail_x
        # "checked 22 Nov 2026", else the bare day (the status as of that day), else nothing:
        # a date cut to "ch…" says nothing.
        for shown in (tail, checked):
            if fonts.text_width(shown, m.tail, False) <= room:
                texts.append(
                    Text(
                        tail_x,
                        status.y,
                        shown,
                        m.tail,
                        WHITE,
                        joined=True,
                        on=band_colour,
                        end=band_end,
                    )
                )
                break
    texts.append(band_line(m.band_rows[1], call_to_action(), m.cta))
    drawing.texts = texts
    drawing.label = _("%(member)s: %(programme)s seal of %(issuer)s — %(status)s, %(tail)s") % {
        "member": card.member,
        "programme": card.programme,
        "issuer": card.issuer,
        "status": not_valid_on(card.site) if card.site else word,
        "tail": tail,
    }
    return _finish(drawing, scale)


def _finish(drawing: Drawing, scale: float) -> Drawing:
    if get_language_bidi():
        drawing = _mirrored(drawing)
    return _scaled(drawing, scale) if scale != 1 else drawing


def _mirrored(d: Drawing) -> Drawing:
    """The whole badge flipped for a right-to-left language (Arabic): the rosette on the
    right, each line ending at the right edge of its room, the band's icon at its right end
    and the status word first from the right. Glyphs are not flipped, only positions."""
    s = d.shapes
    w = s.width

    def fx(x: float, width: float = 0) -> float:
        return w - x - width

    for t in d.texts:
        t.end, t.x = fx(t.x), fx(t.x, t.width)
    bx, by, bw, bh = s.band
    ix, iy, ir = s.icon_box
    ex, ey, er = s.emblem
    d.shapes = replace(
        s, band=(fx(bx, bw), by, bw, bh), icon_box=(fx(ix), iy, ir), emblem=(fx(ex), ey, er)
    )
    if d.logo_box:
        x, y, side = d.logo_box
        d.logo_box = (fx(x, side), y, side)
    cx, cy, cw, ch = d.clip
    d.clip = (fx(cx, cw), cy, cw, ch)
    d.rtl = True
    return d


# A circle (x, y, r), a square (x, y, side) or a rectangle (x, y, w, h).
_Box = TypeVar("_Box", tuple[float, float, float], tuple[float, float, float, float])


def _scaled(d: Drawing, k: float) -> Drawing:
    """Every coordinate and type size times ``k``; the text stays as fitted at 1x."""
    s = d.shapes

    def many(values: _Box) -> _Box:
        return cast(_Box, tuple(v * k for v in values))

    shapes = replace(
        s,
        width=round(s.width * k),
        height=round(s.height * k),
        radius=s.radius * k,
        emblem=many(s.emblem),
        disc=s.disc * k,
        band=many(s.band),
        icon_box=many(s.icon_box),
    )
    texts = [replace(t, x=t.x * k, y=t.y * k, size=t.size * k, end=t.end * k) for t in d.texts]
    return replace(
        d,
        shapes=shapes,
        texts=texts,
        logo_box=many(d.logo_box) if d.logo_box else None,
        clip=many(d.clip),
        scale=k,
    )


def rosette(cx: float, cy: float, r: float, points: int = 20) -> list[tuple[float, float]]:
    """The seal's scalloped edge: ``points`` tips at ``r``, notches at 0.9 r."""
    out = []
    for i in range(points * 2):
        rr = r if i % 2 == 0 else r * 0.9
        a = math.pi * i / points - math.pi / 2
        out.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return out


def icon_shapes(icon: str, cx: float, cy: float, r: float) -> list[tuple]:
    """Icon geometry in pixels: ("circle", cx, cy, r, filled) outlines, ("line", points,
    width) polylines, ("poly", points) filled polygons, ("dot", cx, cy, r). Drawn white."""
    w = max(1.5, r * 0.2)
    ring = ("circle", cx, cy, r, False, w)
    if icon == "check":
        pts = [
            (cx - r * 0.45, cy + r * 0.02),
            (cx - r * 0.1, cy + r * 0.38),
            (cx + r * 0.5, cy - r * 0.35),
        ]
        return [ring, ("line", pts, w * 1.2)]
    if icon == "clock":
        return [ring, ("line", [(cx, cy - r * 0.55), (cx, cy), (cx + r * 0.4, cy + r * 0.3)], w)]
    if icon == "hourglass":
        a, b = r * 0.45, r * 0.6
        return [
            ring,
            ("poly", [(cx - a, cy - b), (cx + a, cy - b), (cx, cy)]),
            ("poly", [(cx, cy), (cx + a, cy + b), (cx - a, cy + b)]),
        ]
    if icon == "pause":
        bw, bh = r * 0.22, r * 0.55
        return [
            ring,
            (
                "poly",
                [
                    (cx - r * 0.38, cy - bh),
                    (cx - r * 0.38 + bw, cy - bh),
                    (cx - r * 0.38 + bw, cy + bh),
                    (cx - r * 0.38, cy + bh),
                ],
            ),
            (
                "poly",
                [
                    (cx + r * 0.16, cy - bh),
                    (cx + r * 0.16 + bw, cy - bh),
                    (cx + r * 0.16 + bw, cy + bh),
                    (cx + r * 0.16, cy + bh),
                ],
            ),
        ]
    if icon == "cross":
        d = r * 0.4
        return [
            ring,
            ("line", [(cx - d, cy - d), (cx + d, cy + d)], w * 1.2),
            ("line", [(cx - d, cy + d), (cx + d, cy - d)], w * 1.2),
        ]
    if icon == "warning":
        tri = [(cx, cy - r), (cx + r * 0.95, cy + r * 0.7), (cx - r * 0.95, cy + r * 0.7)]
        return [
            ("outline", tri, w),
            ("line", [(cx, cy - r * 0.35), (cx, cy + r * 0.2)], w * 1.1),
            ("dot", cx, cy + r * 0.45, w * 0.7),
        ]
    # question: a ring with a dash, neutral
    return [ring, ("line", [(cx - r * 0.45, cy), (cx + r * 0.45, cy)], w * 1.2)]
