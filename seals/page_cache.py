"""Verification pages kept rendered, all but the moment they were checked.

The template is most of a verification page's cost (~1.2 ms of its ~1.9 ms of CPU, measured
with cProfile over the Django test client), and its output is the same for every visitor of
a seal until something the page shows changes. So the page is rendered once per (seal, what
its snapshot says, effective status, language) with markers where the check time goes, and
each request only writes its own time in. The markers are HTML comments passed as safe
strings: any text of ours or the issuer's is escaped on the way in (``<`` becomes ``&lt;``),
so no stored name can carry a marker.

A page with a misuse warning is never kept: its host comes from the visitor's ``Referer``,
and keying on it would let anyone fill the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from seals import i18n
from seals.render.images import LRU
from seals.snapshot_types import SealSnapshot

CHECKED_ISO = "<!--checked-iso-->"
CHECKED_TEXT = "<!--checked-text-->"

# A page is ~10 KB: ~5 MB per process.
_pages = LRU(512)


def checked_strings(now: datetime) -> dict[str, str]:
    """The two renderings of the check time the page shows (``<time datetime>`` and words),
    as template context: the template escapes them."""
    return {
        "checked_iso": date_filter(now, "c"),
        "checked_text": i18n.long_datetime(now, seconds=True),
    }


def page_key(seal_id: str, snap: SealSnapshot, status: str) -> str:
    # The digest covers what the seal, member, programme and issuer show; the chain head moves
    # with every event of the issuer, so it covers this seal's history too.
    issuer = snap.issuer
    return "|".join(
        (
            seal_id,
            snap.digest,
            issuer.chain_head,
            str(issuer.chain_length),
            status,
            get_language() or "",
        )
    )


def render_page(
    request: HttpRequest,
    template: str,
    context: Callable[[], dict],
    *,
    key: str,
    now: datetime,
) -> bytes:
    """The page for ``now``: rendered on a miss from what ``context()`` returns (called only
    then), and on every request only the check time written in, escaped as the template
    would escape it."""
    body = _pages.get(key)
    if body is None:
        marked = {"checked_iso": mark_safe(CHECKED_ISO), "checked_text": mark_safe(CHECKED_TEXT)}  # noqa: S308 -- constants of ours
        body = render_to_string(template, {**context(), **marked}, request).encode()
        _pages.put(key, body)
    times = checked_strings(now)
    return body.replace(CHECKED_ISO.encode(), escape(times["checked_iso"]).encode()).replace(
        CHECKED_TEXT.encode(), escape(times["checked_text"]).encode()
    )


def clear() -> None:
    """Forget every kept page (tests; the LRU bounds it otherwise)."""
    _pages.clear()
