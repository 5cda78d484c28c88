"""config.client_ip: proxy-aware, truncated client networks."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from config.client_ip import client_ip, client_network


def request(remote: str = "198.51.100.7", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_network(request(forwarded="203.0.113.9")) == "198.51.100.0/24"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.0/24"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.0/24"),  # the client's own entry is not believed
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.0/24"),
        (2, "203.0.113.9", "203.0.113.0/24"),  # fewer entries than proxies
        (1, "[2001:db8:abcd:12::1]:443", "2001:db8:abcd::/48"),
        (1, "203.0.113.9:5050", "203.0.113.0/24"),
        (1, "::ffff:203.0.113.9", "203.0.113.0/24"),
    ],
)
def test_behind_trusted_proxies_the_nth_entry_from_the_right_is_the_client(
    settings, trusted, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted
    assert client_network(request(forwarded=forwarded)) == expected


def test_ipv6_is_truncated_to_48_bits(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_network(request(remote="2001:db8:1:2:3:4:5:6")) == "2001:db8:1::/48"


def test_garbage_gives_no_network(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_network(request(forwarded="not-an-ip")) == ""
    assert client_ip(request(remote="")) is None
