"""Seal image bytes: their ETag, their two cache layers, and rendering them ahead of visitors.

The ETag names everything the bytes depend on (design version, seal, snapshot digest, state,
day, format, size, theme, language, and the foreign site a misuse card names), so it is also
the cache key (one site's misuse card is never another's): an in-process LRU first (a
Redis round trip costs more than a whole hit), then the shared cache, then a render.

``seal_images_prerender`` fills the shared cache for the variants an embed shows by default,
right after a seal changes (an outbox message written with the change, ``prerender_later``),
so the first visitor after a change gets bytes instead of waiting ~4 ms per PNG render.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation

from outbox import core as outbox
from seals import snapshot
from seals.render import DESIGN_VERSION, NO_LONGER_VALID, SIZES, Card, render
from seals.render.layout import DEFAULT_ACCENT
from seals.snapshot_types import SealSnapshot

log = logging.getLogger(__name__)

BYTES_TTL = 3600
# What an embed snippet asks for unless told otherwise: every size, the programme's theme, the
# default language. Other variants (``?theme=``, ``?lang=``, ``?d=``) render on first request.
PRERENDERED_FORMATS = ("png",)
# The embed's srcset lets a high-density screen (most phones) fetch the 2x PNG instead of the
# 1x one, so both are rendered ahead; 3x screens are few and render on first request.
PRERENDERED_SCALES = (1, 2)
# One message renders up to this many seals (6 PNGs each: 3 sizes at 1x and 2x, ~40 ms a
# seal): a status sweep of 10,000 seals becomes 50 messages of ~8 s, under the handler's lease.
PRERENDER_BATCH = 200
# The outbox topic: {"public_ids": [...]}.
PRERENDER_TOPIC = "seal.images_prerender"


class LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


# ~3 KB per image: ~6 MB per process.
local_bytes = LRU(2048)


def image_etag(*parts: object) -> str:
    """Strong and the same on every web node: derived from the parts only."""
    raw = "|".join(str(p) for p in (DESIGN_VERSION, *parts))
    return '"' + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest() + '"'


def _shared_key(etag: str) -> str:
    return f"pub:img:{etag.strip(chr(34))}"


def cached_image(etag: str, produce: Callable[[], bytes]) -> bytes:
    body = local_bytes.get(etag)
    if body is not None:
        return body
    key = _shared_key(etag)
    try:
        body = cache.get(key)
    except Exception:
        body = None
    if body is None:
        body = produce()
        try:
            cache.set(key, body, BYTES_TTL)
        except Exception:
            log.debug("image cache write failed", exc_info=True)
    local_bytes.put(etag, body)
    return body


def card_for(snap: SealSnapshot, state: str, day: date, site: str = "") -> Card:
    """``site``: the foreign site a misuse card names (ignored for every other state)."""
    if state == NO_LONGER_VALID:
        return Card(state=state)
    return Card(
        state=state,
        issuer=snap.issuer.name,
        programme=snap.programme.name,
        member=snap.member.display_name,
        checked=day,
        has_logo=bool(snap.issuer.logo_version),
        wording=snap.programme.wording,
        accent=snap.programme.accent_colour or DEFAULT_ACCENT,
        site=site,
    )


def render_seal(
    snap: SealSnapshot,
    state: str,
    day: date,
    fmt: str,
    size: str,
    theme: str,
    scale: int = 1,
    site: str = "",
) -> bytes:
    card = card_for(snap, state, day, site)
    return render(
        card,
        fmt=fmt,
        size=size,
        theme=theme,
        logo_png=snapshot.logo(snap) if card.has_logo else None,
        scale=scale,
    )


def variant(fmt: str, size: str, scale: int) -> str:
    """The part of the ETag naming the picture's variant: a PNG's scale is its own picture
    (its own bytes, ETag and cache entry); an SVG is one picture at every scale."""
    return f"{fmt}@{scale}x" if fmt == "png" and scale != 1 else fmt


def seal_images_prerender(
    *, public_ids: Iterable[str], now: datetime | None = None, sizes: Iterable[str] = SIZES
) -> int:
    """Render the default variants of these seals into the shared cache, as
    ``seals.public_views.seal_image`` would for a request with no other parameter than
    ``size`` (and ``scale`` for the 2x PNGs); returns how many were rendered. Idempotent: a
    variant already cached is left alone, so running twice (a re-delivered task) renders
    nothing the second time."""
    sizes = tuple(sizes)
    now = now or timezone.now()
    day = now.date()
    rendered = 0
    with translation.override(settings.LANGUAGE_CODE):
        lang = translation.get_language()
        for public_id in public_ids:
            snap = snapshot.get(public_id)  # also refills the shared snapshot after a change
            if snap is None:
                continue
            # The image view's rule for a request with no ``?d=``: the erased card, or the
            # effective status now.
            state = NO_LONGER_VALID if snap.erased else snap.status_at(now)
            theme = snap.programme.theme or "light"
            for fmt, size, scale in itertools.product(
                PRERENDERED_FORMATS, sizes, PRERENDERED_SCALES
            ):
                etag = image_etag(
                    public_id, snap.digest, state, day, variant(fmt, size, scale), size, theme, lang
                )
                key = _shared_key(etag)
                if cache.get(key) is not None:
                    continue
                body = render_seal(snap, state, day, fmt, size, theme, scale)
                if cache.add(key, body, BYTES_TTL):
                    rendered += 1
    return rendered


def prerender_later(public_ids: Iterable[str]) -> None:
    """Owe ``seal_images_prerender`` for these seals; call it in the transaction of the change.
    One seal's message is keyed by the seal, so a burst of changes to it costs one render; a
    batch (the status sweep) gets one message per PRERENDER_BATCH seals, each changed once."""
    ids = list(public_ids)
    if len(ids) == 1:
        outbox.put(PRERENDER_TOPIC, {"public_ids": ids}, key=ids[0])
    elif ids:
        batches = range(0, len(ids), PRERENDER_BATCH)
        outbox.put_many(
            PRERENDER_TOPIC, [{"public_ids": ids[i : i + PRERENDER_BATCH]} for i in batches]
        )
