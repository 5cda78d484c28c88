"""Seal image hits replayed before Django's handler (fastpath/replay.py).

A replayed answer must be byte for byte and header for header what Django answered for the
same request, and must never outlive the truth: any change to the seal, its effective status
or the day sends the request back through Django.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings

from config import wsgi
from fastpath import replay
from fastpath.wsgi import PublicReadHandler
from seals import public_views, snapshot, stats
from seals.services import seal_revoke
from tests.factories import MemberFactory, award
from tests.fastpath.support import call
from tests.seals.public_helpers import seal_in

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.redis,
    pytest.mark.usefixtures("fresh_stat_counters"),
]

NOON = datetime(2030, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(replay, "answers", replay.Answers(64))
    yield


@pytest.fixture(scope="module")
def django_app():
    """What Django alone answers: the same trimmed chain, no replay."""
    return PublicReadHandler()


@pytest.fixture
def replays(monkeypatch):
    """How many answers were replayed (rather than made by Django)."""
    served = []
    serve = replay.serve

    def spy(environ, start_response):
        answer = serve(environ, start_response)
        served.append(answer is not None)
        return answer

    monkeypatch.setattr(replay, "serve", spy)
    return served


def _warm(path: str, replays: list, **headers: str) -> None:
    """Request ``path`` until it is replayed (the snapshot copy is trusted once the tracking
    connection has answered)."""
    deadline = time.monotonic() + 30  # a bound for a loaded box; healthy runs take ms
    while not (replays and replays[-1]):
        assert time.monotonic() < deadline, "never replayed"
        call(wsgi.application, path, **headers)
    replays.clear()


def _refuse_django(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("answered by the view")

    monkeypatch.setattr(public_views, "seal_image", refuse)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?size=small&theme=dark",
        "?lang=fr",
        "?d=copycat.example",
        "?size=bogus",
        "?size=large&scale=2",
        "?scale=3",
    ],
)
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_replayed_hit_is_the_answer_django_gives(monkeypatch, replays, django_app, fmt, query):
    path = f"/s/{seal_in('active').public_id}.{fmt}{query}"
    with time_machine.travel(NOON, tick=False):
        _warm(path, replays)
        django = call(django_app, path)
        _refuse_django(monkeypatch)
        replayed = call(wsgi.application, path)
    assert replays == [True]
    assert replayed[0] == django[0] == "200 OK"
    assert sorted(replayed[1]) == sorted(django[1])
    assert replayed[2] == django[2]


def test_each_scale_is_replayed_as_its_own_answer(monkeypatch, replays):
    # Keyed by the query string: the 2x PNG is never answered with the 1x bytes or ETag.
    public_id = seal_in("active").public_id
    one, two = f"/s/{public_id}.png?size=small", f"/s/{public_id}.png?size=small&scale=2"
    with time_machine.travel(NOON, tick=False):
        _warm(one, replays)
        _warm(two, replays)
        _refuse_django(monkeypatch)
        first, second = call(wsgi.application, one), call(wsgi.application, two)
    assert replays == [True, True]
    assert dict(first[1])["ETag"] != dict(second[1])["ETag"]
    assert first[2] != second[2] and len(second[2]) > len(first[2])


def test_a_replayed_hit_near_an_expiry_keeps_the_views_bounded_lifetime(
    monkeypatch, replays, django_app
):
    # Cache-Control is recomputed on replay (it depends on the clock): it must stay the view's,
    # with no stale window reaching past the expiry.
    with time_machine.travel(NOON, tick=False) as traveller:
        seal = award(MemberFactory(), days=30)
        path = f"/s/{seal.public_id}.png"
        traveller.move_to(seal.expires_at - timedelta(seconds=40))
        _warm(path, replays)
        django = dict(call(django_app, path)[1])
        _refuse_django(monkeypatch)
        replayed = dict(call(wsgi.application, path)[1])
    assert replays == [True]
    assert replayed["Cache-Control"] == django["Cache-Control"]
    assert django["Cache-Control"] == (
        "public, max-age=39, stale-while-revalidate=0, stale-if-error=0"
    )


def test_a_conditional_request_replays_the_304_django_gives(monkeypatch, replays):
    path = f"/s/{seal_in('active').public_id}.png"
    with time_machine.travel(NOON, tick=False):
        _warm(path, replays)
        etag = dict(call(wsgi.application, path)[1])["ETag"]
        django = call(wsgi.application, path, HTTP_IF_NONE_MATCH=etag)  # learnt
        _refuse_django(monkeypatch)
        replayed = call(wsgi.application, path, HTTP_IF_NONE_MATCH=etag)
    assert replayed[0] == django[0] == "304 Not Modified"
    assert sorted(replayed[1]) == sorted(django[1])
    assert replayed[2] == b""


def test_a_revocation_is_never_replayed(replays, django_capture_on_commit_callbacks):
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.png"
    _warm(path, replays)
    before = dict(call(wsgi.application, path)[1])["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    # Another route loads the new snapshot into this process first: the copy is current again,
    # but the image answer learnt before the revocation must not be replayed from it.
    deadline = time.monotonic() + 30  # a bound for a loaded box; healthy runs take ms
    while snapshot.get_local(seal.public_id) is None:
        assert time.monotonic() < deadline
        call(wsgi.application, f"/verify/{seal.public_id}.json")
    replays.clear()
    after = dict(call(wsgi.application, path)[1])["ETag"]
    assert replays == [False]
    assert after != before


def test_a_scheduled_expiry_is_never_replayed(replays):
    seal = award(MemberFactory(), days=1)
    path = f"/s/{seal.public_id}.png"
    _warm(path, replays)
    before = dict(call(wsgi.application, path)[1])["ETag"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        replays.clear()
        after = dict(call(wsgi.application, path)[1])["ETag"]
        assert replays == [False]
        assert snapshot.get(seal.public_id).status_at(datetime.now(UTC)) == "expired"
    assert after != before


def test_a_replayed_hit_counts_as_the_view_counts(monkeypatch, replays, django_app):
    seal = seal_in("active")
    plain, copied = f"/s/{seal.public_id}.png", f"/s/{seal.public_id}.png?d=copycat.example"
    _warm(plain, replays)
    _warm(copied, replays)
    counted = []
    monkeypatch.setattr(
        stats,
        "count",
        lambda public_id, *kinds, day, host="": counted.append((public_id, kinds, day, host)),
    )
    for path in (plain, copied):
        call(django_app, path)
    by_the_view, counted[:] = counted[:], []
    for path in (plain, copied):
        call(wsgi.application, path)
    assert replays == [True, True]
    assert counted == by_the_view
    day = datetime.now(UTC).date()
    assert by_the_view == [
        (seal.public_id, (stats.IMPRESSION,), day, ""),
        (seal.public_id, (stats.IMPRESSION, stats.MISUSE), day, "copycat.example"),
    ]


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_another_host_or_scheme_is_answered_by_django(replays):
    # Each may change Django's answer (ALLOWED_HOSTS, HTTPS redirect, HSTS): never replayed
    # from an answer to another.
    path = f"/s/{seal_in('active').public_id}.png"
    _warm(path, replays)
    call(wsgi.application, path, HTTP_HOST="elsewhere.example")
    call(wsgi.application, path, **{"wsgi.url_scheme": "https"})
    call(wsgi.application, path, HTTP_X_FORWARDED_PROTO="https")
    assert replays == [False, False, False]


def test_head_requests_are_answered_by_django(replays):
    path = f"/s/{seal_in('active').public_id}.png"
    _warm(path, replays)
    status, _headers, _body = call(wsgi.application, path, method="HEAD")
    assert status == "200 OK"
    assert replays == []


def test_after_the_tracking_connection_dropped_django_answers(replays):
    path = f"/s/{seal_in('active').public_id}.png"
    _warm(path, replays)
    # Every copy goes with the connection; the reconnected one holds none yet.
    cache.local_copies("pub:gen:").mirror.close()
    call(wsgi.application, path)
    assert replays == [False]


def test_a_renamed_member_is_never_replayed(replays, django_capture_on_commit_callbacks):
    from seals.registry import member_update

    seal = seal_in("active")
    path = f"/s/{seal.public_id}.svg"
    _warm(path, replays)
    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=seal.member, actor="test", display_name="Renamed Trading Ltd")
    # The same status, a new snapshot copy loaded through another route: only the digest
    # tells the learnt image answer from the truth.
    deadline = time.monotonic() + 30  # a bound for a loaded box; healthy runs take ms
    while snapshot.get_local(seal.public_id) is None:
        assert time.monotonic() < deadline
        call(wsgi.application, f"/verify/{seal.public_id}.json")
    replays.clear()
    body = call(wsgi.application, path)[2]
    assert replays == [False]
    assert b"Renamed Trading Ltd" in body


def test_each_referring_site_is_replayed_as_its_own_answer(monkeypatch, replays):
    # Keyed by the Referer's origin: the member's pages share one answer, a foreign site's
    # misuse seal is never replayed to the member's site (nor the other way round).
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.svg"
    counted: list[str] = []
    _warm(path, replays, HTTP_REFERER="https://shop.example/a")
    _warm(path, replays, HTTP_REFERER="https://copycat.example/a")
    monkeypatch.setattr(
        stats, "count", lambda public_id, *kinds, day, host="": counted.append(host)
    )
    _refuse_django(monkeypatch)
    own = call(wsgi.application, path, HTTP_REFERER="https://shop.example/other-page")
    foreign = call(wsgi.application, path, HTTP_REFERER="https://copycat.example/b")
    assert replays == [True, True]
    assert b"Not verified for this site" not in own[2]
    assert b"Not verified for this site" in foreign[2]
    assert counted == ["", "copycat.example"]


def test_the_badge_on_our_own_page_is_replayed_uncounted(monkeypatch, replays):
    # The verification page's <img> sends that page as Referer: Django counts nothing for it,
    # so neither does its replay; a foreign site's answer is still counted.
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.png?size=large"
    ours = f"http://testserver/verify/{seal.public_id}"
    _warm(path, replays, HTTP_REFERER=ours)
    _warm(path, replays, HTTP_REFERER="https://copycat.example/")
    counted: list[tuple] = []
    monkeypatch.setattr(
        stats, "count", lambda public_id, *kinds, day, host="": counted.append((kinds, host))
    )
    _refuse_django(monkeypatch)
    call(wsgi.application, path, HTTP_REFERER=ours)
    call(wsgi.application, path, HTTP_REFERER="https://copycat.example/")
    assert replays == [True, True]
    assert counted == [((stats.IMPRESSION, stats.MISUSE), "copycat.example")]


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_one_foreign_sites_misuse_seal_is_never_replayed_to_another(monkeypatch, replays, fmt):
    # The misuse card names its site, and the replay key holds the Referer's origin (and the
    # query, so ?d=): each site is replayed its own card, and a site never learnt goes to
    # Django, which draws that site's own.
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.{fmt}?size=large"
    _warm(path, replays, HTTP_REFERER="https://copycat.example/a")
    _warm(path, replays, HTTP_REFERER="https://fake-shop.example/a")
    learnt = {
        host: call(wsgi.application, path, HTTP_REFERER=f"https://{host}/b")[2]
        for host in ("copycat.example", "fake-shop.example")
    }
    assert replays == [True, True]
    assert learnt["copycat.example"] != learnt["fake-shop.example"]
    if fmt == "svg":
        assert b"Not valid on copycat.example" in learnt["copycat.example"]
        assert b"fake-shop" not in learnt["copycat.example"]
        assert b"Not valid on fake-shop.example" in learnt["fake-shop.example"]
    replays.clear()
    third = call(wsgi.application, path, HTTP_REFERER="https://third.example/")[2]
    assert replays == [False]
    assert third not in learnt.values()
