"""GET /s/<id>.svg and .png: the seal image, its headers and its cache behaviour."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from PIL import Image

from seals.services import seal_revoke
from tests.factories import MemberFactory, award
from tests.seals.public_helpers import STATUSES, seal_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_renders_its_own_words_in_svg(client, status):
    seal = seal_in(status)
    response = client.get(f"/s/{seal.public_id}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    words = {
        "active": ">Valid<",
        "pending": ">Not yet valid<",
        "expired": ">Expired<",
        "suspended": ">Suspended<",
        "revoked": ">Revoked<",
    }
    assert words[status] in response.content.decode()


def test_every_status_gets_a_distinct_png(client):
    bodies = {
        status: client.get(f"/s/{seal_in(status).public_id}.png").content for status in STATUSES
    }
    assert len(set(bodies.values())) == len(STATUSES)
    for body in bodies.values():
        assert Image.open(io.BytesIO(body)).size == (240, 72)


@pytest.mark.parametrize(
    ("size", "dims"), [("small", (160, 48)), ("medium", (240, 72)), ("large", (320, 96))]
)
def test_sizes_are_fixed_pixel_sizes(client, size, dims):
    seal = seal_in("active")
    png = client.get(f"/s/{seal.public_id}.png?size={size}").content
    assert Image.open(io.BytesIO(png)).size == dims
    svg = client.get(f"/s/{seal.public_id}.svg?size={size}").content.decode()
    assert f'width="{dims[0]}" height="{dims[1]}"' in svg


@pytest.mark.parametrize("scale", [2, 3])
def test_a_png_at_2x_or_3x_has_that_many_pixels_and_its_own_etag(client, scale):
    seal = seal_in("active")
    one = client.get(f"/s/{seal.public_id}.png?size=small")
    many = client.get(f"/s/{seal.public_id}.png?size=small&scale={scale}")
    assert Image.open(io.BytesIO(many.content)).size == (160 * scale, 48 * scale)
    assert many["ETag"] != one["ETag"]
    assert many["Cache-Control"] == one["Cache-Control"]
    # Conditional requests name the scale's own ETag.
    assert (
        client.get(f"/s/{seal.public_id}.png?size=small", HTTP_IF_NONE_MATCH=many["ETag"])["ETag"]
        == one["ETag"]
    )
    again = client.get(
        f"/s/{seal.public_id}.png?size=small&scale={scale}", HTTP_IF_NONE_MATCH=many["ETag"]
    )
    assert again.status_code == 304


@pytest.mark.parametrize("scale", ["0", "4", "1.5", "2x", ""])
def test_an_unknown_scale_gets_the_1x_image(client, scale):
    seal = seal_in("active")
    one = client.get(f"/s/{seal.public_id}.png")
    odd = client.get(f"/s/{seal.public_id}.png?scale={scale}")
    assert odd.status_code == 200 and odd["ETag"] == one["ETag"]


def test_an_svg_is_one_picture_at_every_scale(client):
    seal = seal_in("active")
    plain = client.get(f"/s/{seal.public_id}.svg")
    scaled = client.get(f"/s/{seal.public_id}.svg?scale=2")
    assert scaled["ETag"] == plain["ETag"] and scaled.content == plain.content


def test_the_not_found_image_comes_at_2x_too(client):
    response = client.get(f"/s/{'A' * 22}.png?size=large&scale=2")
    assert response.status_code == 404
    assert Image.open(io.BytesIO(response.content)).size == (640, 192)


def test_medium_png_stays_under_12_kb_even_with_long_mixed_script_names(client):
    member = MemberFactory(display_name="Ελληνικά Кириллица עברית العربية 日本語 한국어 " * 5)
    seal = award(member)
    for theme in ("light", "dark"):
        body = client.get(f"/s/{seal.public_id}.png?theme={theme}").content
        assert len(body) <= 12 * 1024


def test_a_hostile_name_is_text_in_the_svg(client):
    member = MemberFactory(display_name='</text><script>alert(1)</script>&"')
    seal = award(member)
    svg = client.get(f"/s/{seal.public_id}.svg").content.decode()
    assert "<script" not in svg
    assert "&lt;/text&gt;&lt;script&gt;" in svg


def test_a_long_name_is_cut_with_an_ellipsis(client):
    seal = award(MemberFactory(display_name="Supercalifragilistic Holdings " * 10))
    svg = client.get(f"/s/{seal.public_id}.svg").content.decode()
    member_line = re.search(r'font-weight="700">([^<]*Supercali[^<]*)</text>', svg).group(1)
    assert member_line.endswith("…")
    assert len(member_line) < 60


def test_a_seal_flips_to_expired_at_its_expiry_instant_without_any_worker(client):
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False) as traveller:
        seal = award(MemberFactory(), days=30)
        url = f"/s/{seal.public_id}.svg"
        traveller.move_to(seal.expires_at - timedelta(seconds=1))
        before = client.get(url)
        assert ">Valid<" in before.content.decode()
        # Gone from any cache by the instant (see test_cache_lifetimes_count_whole_seconds).
        assert before["Cache-Control"].startswith("public, max-age=0,")
        traveller.move_to(seal.expires_at)
        after = client.get(url)
        assert ">Expired<" in after.content.decode()
        assert after["ETag"] != before["ETag"]


def test_max_age_never_runs_past_the_next_scheduled_change(client):
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False) as traveller:
        seal = award(MemberFactory(), days=30)
        traveller.move_to(seal.expires_at - timedelta(seconds=40))
        response = client.get(f"/s/{seal.public_id}.png")
    # A seal expiring in 40 s is cached for under 40 s, with no stale copy after it.
    assert response["Cache-Control"] == (
        "public, max-age=39, stale-while-revalidate=0, stale-if-error=0"
    )


@pytest.mark.parametrize(
    ("seconds_left", "expected"),
    [
        (None, "public, max-age=45, stale-while-revalidate=15, stale-if-error=15"),
        (61, "public, max-age=45, stale-while-revalidate=15, stale-if-error=15"),
        (50, "public, max-age=45, stale-while-revalidate=4, stale-if-error=4"),
        (46, "public, max-age=45, stale-while-revalidate=0, stale-if-error=0"),
        (1, "public, max-age=0, stale-while-revalidate=0, stale-if-error=0"),
    ],
)
def test_no_cache_shows_an_answer_past_60_s_or_past_the_next_change(seconds_left, expected):
    from seals.public_views import cache_control

    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    change = None if seconds_left is None else now + timedelta(seconds=seconds_left)
    header = cache_control(now, change)
    assert header == expected
    numbers = dict(part.split("=") for part in header.split(", ")[1:])
    age = int(numbers["max-age"])
    for stale in ("stale-while-revalidate", "stale-if-error"):
        # max-age + either stale window stays within the 60 s of DESIGN §1.1.
        assert age + int(numbers[stale]) <= 60
        if seconds_left is not None:
            assert age + int(numbers[stale]) < seconds_left


def test_cache_lifetimes_count_whole_seconds():
    """nginx keeps an entry through the last second of its max-age, counted from the start of
    the second it stored it in: an answer given at 12:00:00.100 with max-age=40 would be served
    until 12:00:40.999, past a change at 12:00:40.900."""
    from seals.public_views import cache_control

    given = datetime(2030, 1, 1, 12, 0, 0, 100_000, tzinfo=UTC)
    change = datetime(2030, 1, 1, 12, 0, 40, 900_000, tzinfo=UTC)
    assert cache_control(given, change).startswith("public, max-age=39, ")
    late_in_the_second = datetime(2030, 1, 1, 12, 0, 0, 900_000, tzinfo=UTC)
    on_the_second = datetime(2030, 1, 1, 12, 0, 41, tzinfo=UTC)
    # Fresh through 12:00:40.999 and gone at the change itself.
    assert cache_control(late_in_the_second, on_the_second).startswith("public, max-age=40, ")


def test_the_drawn_date_is_never_cached_past_midnight(client):
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False) as traveller:
        seal = seal_in("active")
        traveller.move_to(datetime(2030, 1, 1, 23, 59, 30, tzinfo=UTC))
        response = client.get(f"/s/{seal.public_id}.svg")
    assert response["Cache-Control"] == (
        "public, max-age=29, stale-while-revalidate=0, stale-if-error=0"
    )


def test_headers_of_an_image(client):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}.png")
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert re.fullmatch(
        r"public, max-age=(\d+), stale-while-revalidate=\d+, stale-if-error=\d+",
        response["Cache-Control"],
    )
    assert int(response["Cache-Control"].split("max-age=")[1].split(",")[0]) <= 60
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Length"] == str(len(response.content))
    assert response["Surrogate-Key"] == f"seal-{seal.public_id}"
    assert not response.cookies


def test_if_none_match_round_trip_gives_304_until_the_seal_changes(
    client, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg"
    etag = client.get(url)["ETag"]
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert ">Revoked<" in changed.content.decode()


def test_etag_differs_per_parameter(client):
    seal = seal_in("active")
    tags = {
        client.get(f"/s/{seal.public_id}.svg?{q}")["ETag"]
        for q in ("", "size=small", "theme=dark", "d=shop.example&size=large")
    }
    tags.add(client.get(f"/s/{seal.public_id}.png")["ETag"])
    assert len(tags) == 5


def test_unknown_id_gets_a_404_seal_not_found_image(client):
    response = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA.png")
    assert response.status_code == 404
    assert response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (240, 72)
    svg = client.get("/s/AAAAAAAAAAAAAAAAAAAAAA.svg?size=small")
    assert svg.status_code == 404
    assert "Seal not found" in svg.content.decode()
    assert not svg.cookies


@pytest.mark.parametrize(
    "bad",
    [
        "short.svg",
        "short.png",
        "A" * 23 + ".svg",
        "AAAAAAAAAAAAAAAAAAAA%2F.svg",
        "AAAAAAAAAAAAAAAAAAAAA!.png",
        ".svg",
        "AAAAAAAAAAAAAAAAAAAAAA/extra.png",
    ],
)
def test_a_malformed_image_id_gets_the_not_found_image_without_a_query(
    client, django_assert_num_queries, bad
):
    with django_assert_num_queries(0):
        response = client.get(f"/s/{bad}?size=small")
    assert response.status_code == 404
    if bad.endswith(".png"):
        assert response["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(response.content)).size == (160, 48)
    else:
        assert response["Content-Type"] == "image/svg+xml"
        assert "Seal not found" in response.content.decode()
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Length"] == str(len(response.content))
    assert not response.cookies


@pytest.mark.parametrize("bad", ["short", "A" * 23, "AAAAAAAAAAAAAAAAAAAAAA.gif"])
def test_other_malformed_seal_paths_never_reach_the_database(
    client, django_assert_num_queries, bad
):
    with django_assert_num_queries(0):
        response = client.get(f"/s/{bad}")
    assert response.status_code == 404


def test_a_foreign_d_host_shows_the_not_verified_variant(client):
    seal = seal_in("active")
    foreign = client.get(f"/s/{seal.public_id}.svg?d=copycat.example").content.decode()
    assert "Not verified for this site" in foreign
    own = client.get(f"/s/{seal.public_id}.svg?d=www.shop.example").content.decode()
    assert "Not verified for this site" not in own
    assert ">Valid<" in own


def test_the_misuse_seal_names_the_foreign_site_never_a_path(client):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg?size=large"
    by_referer = client.get(url, HTTP_REFERER="https://copycat.example/stolen/seal.html")
    assert "Not valid on copycat.example" in by_referer.content.decode()
    assert "stolen" not in by_referer.content.decode()
    by_d = client.get(url + "&d=fake-shop.example").content.decode()
    assert "Not valid on fake-shop.example" in by_d
    other_port = client.get(url, HTTP_REFERER="https://copycat.example:8443/").content.decode()
    assert "Not valid on copycat.example:8443" in other_port


def test_an_idn_site_is_named_in_unicode(client):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg?size=large"
    body = client.get(url, HTTP_REFERER="https://xn--bckerei-5wa.example/").content.decode()
    assert "Not valid on bäckerei.example" in body and "xn--" not in body


def test_an_address_is_never_drawn_on_the_misuse_seal(client):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg?size=large"
    plain = client.get(url, HTTP_REFERER="https://copycat.example/")
    by_ip = client.get(url, HTTP_REFERER="http://203.0.113.7/")
    body = by_ip.content.decode()
    assert "Not verified for this site" in body
    assert "203.0.113.7" not in body and "Not valid on" not in body
    assert by_ip["ETag"] != plain["ETag"]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_each_foreign_site_gets_its_own_misuse_image(client, fmt):
    # Cached per site: the ETag (the cache key of both in-process and shared caches) names it,
    # so one site's card is never served to another, from either cache.
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.{fmt}?size=medium"
    answers = {
        host: client.get(url, HTTP_REFERER=f"https://{host}/")
        for host in ("copycat.example", "fake-shop.example")
    }
    again = client.get(url, HTTP_REFERER="https://copycat.example/other")
    one, other = answers["copycat.example"], answers["fake-shop.example"]
    assert one["ETag"] != other["ETag"]
    assert one.content != other.content
    assert (again["ETag"], again.content) == (one["ETag"], one.content)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("revoked", ">Revoked<"),
        ("suspended", ">Suspended<"),
        ("expired", ">Expired<"),
        ("pending", ">Not yet valid<"),
    ],
)
def test_a_seal_that_is_not_valid_says_so_on_a_foreign_site_too(client, status, words):
    # The misuse card would hide the real status behind "not verified for this site".
    seal = seal_in(status)
    foreign = client.get(f"/s/{seal.public_id}.svg?d=copycat.example").content.decode()
    assert words in foreign
    assert "Not verified for this site" not in foreign


def test_a_write_makes_the_cached_image_stale_at_once(client, django_capture_on_commit_callbacks):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg"
    assert ">Valid<" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    assert ">Revoked<" in client.get(url).content.decode()


def test_a_new_accent_or_wording_is_a_new_picture_at_once(
    client, django_capture_on_commit_callbacks
):
    from config.tenancy import scopes_disabled
    from seals.registry import programme_update

    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg"
    before = client.get(url)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        programme_update(programme=seal.programme, accent_colour="#0b6e4f", wording="Gold member")
    after = client.get(url)
    assert after["ETag"] != before["ETag"]
    body = after.content.decode()
    assert 'fill="#0b6e4f"' in body and ">Gold member<" in body


def test_with_the_cache_warm_images_and_304_make_no_query(client, django_assert_num_queries):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.png"
    etag = client.get(url)["ETag"]
    client.get("/s/AAAAAAAAAAAAAAAAAAAAAB.svg")  # unknown ids are cached too
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get("/s/AAAAAAAAAAAAAAAAAAAAAB.svg").status_code == 404


def test_a_broken_cache_never_fails_the_image(client, monkeypatch):
    from django.core.cache import cache

    def boom(*args, **kwargs):
        raise ConnectionError("cache down")

    seal = seal_in("active")
    for name in ("get", "get_many", "set", "add", "set_many"):
        monkeypatch.setattr(cache, name, boom)
    response = client.get(f"/s/{seal.public_id}.png")
    assert response.status_code == 200
    assert client.get(f"/verify/{seal.public_id}.json").json()["status"] == "active"
