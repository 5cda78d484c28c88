"""Members' domains: what is a hostname, and how it is stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from issuers.domains import display_domain, host_matches, normalise_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        # IDNA 2008 keeps "ß" (browsers resolve faß.de to xn--fa-hia.de, not fass.de).
        ("faß.de", "xn--fa-hia.de"),
        ("\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", "example.com"),  # full-width
    ],
)
def test_it_stores_hostnames_as_browsers_resolve_them(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize("raw", ["xn--zz.example", "xn--.example", "a_b.example", "a..example"])
def test_it_refuses_invalid_labels(raw):
    with pytest.raises(ValidationError):
        normalise_domain(raw)


def test_a_subdomain_written_in_unicode_matches_its_registered_a_label():
    assert host_matches("shop.faß.de", ["xn--fa-hia.de"])
    assert not host_matches("fass.de", ["xn--fa-hia.de"])


def test_a_stored_a_label_is_shown_in_unicode_and_an_undecodable_one_as_stored():
    assert display_domain("xn--bcher-kva.example") == "bücher.example"
    assert display_domain("shop.xn--fa-hia.de") == "shop.faß.de"
    assert display_domain("plain.example") == "plain.example"
    assert display_domain("xn--zz.example") == "xn--zz.example"
