"""The edge (deploy/nginx/seal-cache.conf + seal-referer.conf) on the real nginx, in front of the
real app (pytest-django's live server): the seal image is cached per referring *origin*.

No Referer and the member's own site get the normal seal, and every page of the member's site
shares one cache entry; a foreign site gets the misuse seal from an entry of its own; another
port of the member's host is another site. The app is sent the Referer's origin only.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy import running_edge
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.nginx, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def edge(live_server, tmp_path: Path) -> Iterator[str]:
    upstream = urlsplit(live_server.url).port
    assert upstream is not None
    with running_edge(tmp_path / "edge", upstream=upstream) as url:
        yield url


@dataclass
class Answer:
    status: int
    body: str
    cache: str
    vary: str


def get(url: str, referer: str = "") -> Answer:
    request = urllib.request.Request(url, headers={"Referer": referer} if referer else {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - loopback
            return Answer(
                response.status,
                response.read().decode(),
                response.headers.get("X-Cache", ""),
                response.headers.get("Vary", ""),
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), error.headers.get("X-Cache", ""), "")


MISUSE = "Not verified for this site"


def test_the_edge_keeps_one_entry_per_referring_origin(edge, monkeypatch):
    seal = seal_in("active")
    url = f"{edge}/s/{seal.public_id}.svg"
    seen: list[str] = []
    from seals import public_views

    judge = public_views.shown_on

    def spy(request, d, domains):
        seen.append(request.META.get("HTTP_REFERER", ""))
        return judge(request, d, domains)

    monkeypatch.setattr(public_views, "shown_on", spy)

    plain = get(url)
    assert (plain.status, plain.cache) == (200, "MISS")
    assert ">Valid<" in plain.body and MISUSE not in plain.body
    assert get(url).cache == "HIT"

    # The member's site: one entry for all its pages, the normal seal.
    first = get(url, "https://shop.example/products?id=7")
    assert (first.cache, MISUSE in first.body) == ("MISS", False)
    later = get(url, "https://shop.example/about")
    assert (later.cache, MISUSE in later.body) == ("HIT", False)
    assert later.vary == "Referer"  # passed on for browsers and other caches

    # A foreign site: its own entry, the misuse seal, and it does not spoil the others.
    foreign = get(url, "https://copycat.example/stolen-seal.html")
    assert (foreign.cache, MISUSE in foreign.body) == ("MISS", True)
    assert get(url, "https://copycat.example/other-page").cache == "HIT"
    assert MISUSE in get(url, "https://copycat.example/").body
    assert MISUSE not in get(url).body
    assert get(url, "https://shop.example/").cache == "HIT"

    # Another port of the member's host is another site.
    other_port = get(url, "https://shop.example:8443/")
    assert (other_port.cache, MISUSE in other_port.body) == ("MISS", True)

    # Not an http(s) Referer: treated as none, and served from the no-Referer entry.
    odd = get(url, "android-app://com.example.app/")
    assert (odd.cache, MISUSE in odd.body) == ("HIT", False)

    # The app saw each origin once (misses only), and never a path of the referring page.
    assert seen == [
        "",
        "https://shop.example",
        "https://copycat.example",
        "https://shop.example:8443",
    ]


def test_through_the_edge_each_site_gets_its_own_named_card_and_our_page_counts_nothing(
    edge, monkeypatch, settings
):
    from seals import public_views, stats

    # The edge's own address is this service's public one, as in production.
    settings.PUBLIC_BASE_URL = edge
    counted: list[tuple[tuple[str, ...], str]] = []
    monkeypatch.setattr(
        public_views.stats,
        "count",
        lambda public_id, *kinds, day, host="": counted.append((kinds, host)),
    )
    seal = seal_in("active")
    url = f"{edge}/s/{seal.public_id}.svg?size=large"

    one = get(url, "https://copycat.example/page")
    other = get(url, "https://fake-shop.example/page")
    assert "Not valid on copycat.example" in one.body and "fake-shop" not in one.body
    assert "Not valid on fake-shop.example" in other.body and "copycat" not in other.body
    assert get(url, "https://copycat.example/other").body == one.body  # its own entry

    # The verification page's own badge: the page is its Referer. Not an impression, on the
    # miss that reaches the app as on the hits that do not.
    ours = get(url, f"{edge}/verify/{seal.public_id}")
    assert (ours.status, ours.cache, ">Valid<" in ours.body) == (200, "MISS", True)
    assert get(url, f"{edge}/verify/{seal.public_id}").cache == "HIT"
    assert counted == [
        ((stats.IMPRESSION, stats.MISUSE), "copycat.example"),
        ((stats.IMPRESSION, stats.MISUSE), "fake-shop.example"),
    ]
