"""Where a seal is shown (seals.shown_on): the Referer's origin, host and port, and ``?d=``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seals.shown_on import REFERER_ORIGIN, judge_host, judge_origin, referer_origin, shown_on

ROOT = Path(__file__).resolve().parent.parent.parent
DOMAINS = ["shop.example", "xn--bckerei-5wa.example"]  # bäckerei.example


def judge(referer: str, d: str = "") -> tuple[bool, str, str]:
    site = shown_on(referer, d, DOMAINS, request_host="testserver", scheme="http")
    return site.foreign, site.name, site.host


def test_the_pattern_is_the_edges_own():
    """The origin the view judges is what the edge keys on (deploy/nginx/seal-referer.conf)."""
    conf = (ROOT / "deploy" / "nginx" / "seal-referer.conf").read_text()
    found = re.search(r'"~\*\^\(\?<seal_origin>(.+?)\)"', conf)
    assert found is not None
    assert found.group(1) == REFERER_ORIGIN.pattern
    assert REFERER_ORIGIN.flags & re.IGNORECASE  # nginx's ~* is case-insensitive


@pytest.mark.parametrize(
    ("referer", "origin"),
    [
        ("https://copycat.example/a/b?c#d", "https://copycat.example"),
        ("HTTPS://Copycat.Example:8443/x", "HTTPS://Copycat.Example:8443"),
        ("https://copycat.example", "https://copycat.example"),
        ("ftp://copycat.example/", ""),
        ("android-app://com.example/", ""),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_only_an_http_origin_is_read_from_the_referer(referer, origin):
    assert referer_origin(referer) == origin


@pytest.mark.parametrize(
    ("referer", "expected"),
    [
        ("", (False, "", "")),
        ("https://shop.example/", (False, "", "")),
        ("http://www.shop.example/page", (False, "", "")),  # a subdomain, default port
        ("https://shop.example:443/", (False, "", "")),  # the default port, written out
        ("https://xn--bckerei-5wa.example/", (False, "", "")),
        ("https://bäckerei.example/", (False, "", "")),  # as a browser may write it
        ("https://copycat.example/some/path?q=1", (True, "copycat.example", "copycat.example")),
        ("https://COPYCAT.example/", (True, "copycat.example", "copycat.example")),
        # Another port of the member's own host is another site (RFC 6454 origins).
        (
            "https://shop.example:8443/",
            (True, "shop.example:8443", "shop.example:8443"),
        ),
        ("http://shop.example:8080/", (True, "shop.example:8080", "shop.example:8080")),
        # Shown, so misuse; an address is never recorded.
        ("http://203.0.113.7/", (True, "203.0.113.7", "")),
        ("http://[2001:db8::1]/", (True, "2001:db8::1", "")),
        ("https://shop.example:99999/", (True, "shop.example", "")),
        ("https://evilshop.example/", (True, "evilshop.example", "evilshop.example")),
        # This service itself (PUBLIC_BASE_URL and the request's own host): nothing to judge.
        ("http://127.0.0.1:8000/verify/x", (False, "", "")),
        ("http://testserver/console/", (False, "", "")),
        ("http://testserver:81/", (True, "testserver:81", "")),
    ],
)
def test_a_referer_is_judged_by_host_and_port(referer, expected):
    assert judge(referer) == expected


def test_d_is_judged_too_and_either_foreign_is_misuse():
    assert judge("", "copycat.example") == (True, "copycat.example", "copycat.example")
    assert judge("", "www.shop.example") == (False, "", "")
    # A copied script snippet with d= hard-coded to the member's site: the Referer still tells.
    assert judge("https://copycat.example/", "shop.example")[0] is True
    # Both foreign: the browser's Referer is the one recorded.
    assert judge("https://one.example/", "two.example")[2] == "one.example"


def test_a_d_that_is_no_hostname_is_misuse_but_not_recorded():
    assert judge_host("not a host!", DOMAINS) == judge_host("not a host!", DOMAINS)
    site = judge_host("203.0.113.7", DOMAINS)
    assert (site.foreign, site.host) == (True, "")


def test_an_origin_without_a_host_is_nowhere():
    site = judge_origin("http://", DOMAINS, request_host="testserver", scheme="http")
    assert site.foreign is False


def test_this_services_own_origin_is_marked_ours_and_another_port_is_not():
    for referer in ("http://127.0.0.1:8000/verify/x", "http://testserver/console/"):
        site = shown_on(referer, "", DOMAINS, request_host="testserver", scheme="http")
        assert (site.foreign, site.own) == (False, True)
    # With a foreign ?d= on our own page: misuse drawn, still our page (counted by nobody).
    site = shown_on(
        "http://testserver/x", "copycat.example", DOMAINS, request_host="testserver", scheme="http"
    )
    assert (site.foreign, site.own, site.host) == (True, True, "copycat.example")
    for referer in ("", "https://shop.example/", "http://testserver:81/"):
        site = shown_on(referer, "", DOMAINS, request_host="testserver", scheme="http")
        assert site.own is False


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("copycat.example", "copycat.example"),
        ("xn--bckerei-5wa.example", "bäckerei.example"),
        ("xn--bckerei-5wa.example:8443", "bäckerei.example:8443"),
        ("xn--zz.example", "xn--zz.example"),  # does not decode: shown as recorded
    ],
)
def test_a_recorded_host_is_displayed_in_unicode_with_its_port(host, shown):
    from seals.shown_on import display_host

    assert display_host(host) == shown
