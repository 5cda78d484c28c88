"""The seal's design, once: geometry, colours, icons and fitted text for every size, theme and
status. ``svg.py`` and ``png.py`` only paint what ``build`` returns, so both formats show the
same thing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

from issuers.text import refused
from seals import i18n
from seals.render import fonts

# Bump when the drawing changes: it is part of every image ETag and cache key.
# 3: names cleaned of characters XML 1.0 forbids; right-to-left lines anchored at their end.
DESIGN_VERSION = "3"

SIZES: dict[str, tuple[int, int]] = {"small": (160, 48), "medium": (240, 72), "large": (320, 96)}
THEMES = ("light", "dark")
NOT_FOUND = "not_found"
MISUSE = "misuse"
# A seal whose holder's data was erased: the card names nobody (an erased holder must not be
# named again, even as a former member), only the state.
NO_LONGER_VALID = "no_longer_valid"
# The record could not be read (database unreachable): neither valid nor invalid, names nobody.
UNKNOWN = "unknown"

# Strip colours carry white icons and are the status word's colour on the light card; each
# pair passes WCAG AA (≥ 4.5:1) against its background. Colour is never alone: each state has
# its own icon and word too.
_STATUS_COLOURS = {
    # status: (light strip / word on light, dark strip, word on dark)
    "active": ("#1a7f37", "#238636", "#3fb950"),
    "pending": ("#0969da", "#1f6feb", "#58a6ff"),
    "expired": ("#59636e", "#484f58", "#9198a1"),
    "suspended": ("#9a6700", "#9e6a03", "#d29922"),
    "revoked": ("#cf222e", "#da3633", "#f85149"),
    MISUSE: ("#bc4c00", "#bd561d", "#f0883e"),
    NOT_FOUND: ("#59636e", "#484f58", "#9198a1"),
    NO_LONGER_VALID: ("#cf222e", "#da3633", "#f85149"),
    UNKNOWN: ("#59636e", "#484f58", "#9198a1"),
}
_THEME = {
    "light": {"bg": "#ffffff", "border": "#d0d7de", "text": "#1f2328", "muted": "#59636e"},
    "dark": {"bg": "#0d1117", "border": "#30363d", "text": "#e6edf3", "muted": "#9198a1"},
}


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

    @property
    def width(self) -> float:
        return fonts.text_width(self.text, self.size, self.bold)

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom): the advance horizontally, the glyphs' ink vertically."""
        top, bottom = fonts.ink_rows(self.text, self.size, self.bold)
        return self.x, self.y + top, self.x + self.width, self.y + bottom


@dataclass
class Drawing:
    width: int
    height: int
    bg: str
    border: str
    strip: str  # colour of the status strip on the left
    strip_width: float
    icon: str  # one of ICONS
    icon_box: tuple[float, float, float]  # centre x, centre y, radius
    logo_box: tuple[float, float, float] | None  # x, y, side
    texts: list[Text] = field(default_factory=list)
    clip: tuple[float, float, float, float] = (0, 0, 0, 0)  # text area x, y, w, h
    label: str = ""  # the whole card as one sentence: SVG <title>, alt text
    rtl: bool = False  # lines end at the text area's right edge (SVG anchors them there)


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


def build(card: Card, *, size: str, theme: str) -> Drawing:
    card = replace(
        card,
        issuer=clean_text(card.issuer),
        programme=clean_text(card.programme),
        member=clean_text(card.member),
    )
    width, height = SIZES[size]
    s = height / 72  # the design is drawn at medium (240x72) and scaled
    palette = _THEME[theme]
    light, dark_strip, dark_word = _STATUS_COLOURS[card.state]
    strip = light if theme == "light" else dark_strip
    word_colour = light if theme == "light" else dark_word
    strip_w = 44 * s
    pad = 6 * s
    x0 = strip_w + pad
    text_w = width - x0 - pad
    words = status_words()
    drawing = Drawing(
        width=width,
        height=height,
        bg=palette["bg"],
        border=palette["border"],
        strip=strip,
        strip_width=strip_w,
        icon=ICONS[card.state],
        icon_box=(strip_w / 2, height / 2, 13 * s),
        logo_box=None,
        clip=(x0, 0, text_w, height),
    )
    word = words[card.state]
    if card.state in (NOT_FOUND, NO_LONGER_VALID, UNKNOWN):
        drawing.texts = [
            Text(x0, 32 * s, fonts.fit(word, 13 * s, True, text_w), 13 * s, palette["text"], True),
            Text(
                x0,
                50 * s,
                fonts.fit(_("Trustseal"), 10 * s, False, text_w),
                10 * s,
                palette["muted"],
            ),
        ]
        drawing.label = word
        return _mirrored(drawing) if get_language_bidi() else drawing
    issuer_x = x0
    if card.has_logo:
        drawing.logo_box = (x0, 5 * s, 13 * s)
        issuer_x = x0 + 16 * s
    checked = i18n.image_day(card.checked) if card.checked else ""
    tail = _("checked %(date)s") % {"date": checked}
    word_size, tail_size = 10.5 * s, 9 * s
    if card.state == MISUSE:
        status_line = [
            Text(x0, 65 * s, fonts.fit(word, word_size, True, text_w), word_size, word_colour, True)
        ]
    else:
        shown = fonts.fit(word, word_size, True, text_w)
        tail_x = x0 + fonts.text_width(shown, word_size, True)
        tail_x += fonts.text_width(GAP, tail_size, False)
        status_line = [
            Text(x0, 65 * s, shown, word_size, word_colour, True),
            Text(
                tail_x,
                65 * s,
                fonts.fit(tail, tail_size, False, x0 + text_w - tail_x),
                tail_size,
                palette["muted"],
                joined=True,
            ),
        ]
    drawing.texts = [
        Text(
            issuer_x,
            15 * s,
            fonts.fit(card.issuer, 9.5 * s, False, x0 + text_w - issuer_x),
            9.5 * s,
            palette["muted"],
        ),
        Text(
            x0, 32 * s, fonts.fit(card.member, 13 * s, True, text_w), 13 * s, palette["text"], True
        ),
        Text(x0, 47 * s, fonts.fit(card.programme, 10 * s, False, text_w), 10 * s, palette["text"]),
        *status_line,
    ]
    drawing.label = _("%(member)s: %(programme)s seal of %(issuer)s — %(status)s, %(tail)s") % {
        "member": card.member,
        "programme": card.programme,
        "issuer": card.issuer,
        "status": word,
        "tail": tail,
    }
    return _mirrored(drawing) if get_language_bidi() else drawing


def _mirrored(d: Drawing) -> Drawing:
    """The text area laid out right to left (Arabic): each line and the logo flipped about the
    middle of the text area, so lines end at its right edge and the status word comes first
    from the right. The strip stays: it is the status colour, not reading order."""
    left, right = d.clip[0], d.clip[0] + d.clip[2]
    for t in d.texts:
        t.x = left + right - t.x - t.width
    if d.logo_box:
        x, y, side = d.logo_box
        d.logo_box = (left + right - x - side, y, side)
    d.rtl = True
    return d


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
