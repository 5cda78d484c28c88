"""Issuer API list endpoints at 10,000, 100,000 and 1,000,000 seals and members in one issuer.

    DATABASE_URL=postgres://... [REDIS_URL=redis://...] .venv/bin/python bench/api_lists.py
    [--sizes 10000,100000,1000000] [--repeat 40] [--reuse] [--keep] [--explain]

For each size: a scratch database ``<name>_bench_<size>`` (created here, dropped afterwards
unless ``--keep``; the real database is never touched), migrated, then seeded with SQL
(``generate_series``: minutes for 1M members + 1M seals) and vacuumed. Every endpoint is then
called ``--repeat`` times through the whole Django stack (test client, a real API key,
authentication, throttling, serialisers); p50/p95 per endpoint are printed as a Markdown table
with the CPU time per request (this process plus its PostgreSQL backend, read from /proc:
unlike wall time it hardly grows when other work shares the box; parallel query workers are
not counted) and the SQL queries and rows of the page. ``--reuse`` keeps an already seeded
database (new migrations are applied to it, so their index builds are timed at that size);
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each endpoint's list queries.

The data is shaped like a long-lived membership register: members joined over five years,
one seal each, renewed yearly with an 8 % chance of lapsing at each renewal (so expired seals
are the older ones, the hard case for a newest-first list), 3 % suspended, 2 % revoked, the
newest 0.3 % pending, 5 % without expiry, one expired seal in a thousand not yet swept; names
from word lists (a 1-in-50 noun, a 1-in-27,000 place name), encrypted contacts.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # sets sys.path and DJANGO_SETTINGS_MODULE

ISSUER_SLUG = "bench-lists"
# fmt: off
ADJECTIVES = [
    "Golden", "Royal", "Northern", "Old", "New", "Green", "Silver", "Bright", "Grand",
    "Little", "Modern", "Village", "City", "Coastal", "Highland", "Riverside", "Oak", "Maple",
    "Sunny", "Blue",
]
NOUNS = [
    "Crumb", "Anchor", "Harbour", "Meadow", "Lantern", "Orchard", "Forge", "Mill", "Bridge",
    "Crown", "Beacon", "Willow", "Falcon", "Heron", "Thistle", "Acorn", "Compass", "Harvest",
    "Kettle", "Ember", "Summit", "Quarry", "Canal", "Market", "Garden", "Cedar", "Birch",
    "Granite", "Pebble", "Spring", "Valley", "Fox", "Badger", "Otter", "Raven", "Swan", "Lark",
    "Robin", "Wren", "Stag", "Hawk", "Pine", "Elm", "Ivy", "Rose", "Clover", "Fern", "Moss",
    "Reed", "Brook",
]
TRADES = [
    "Bakery", "Pharmacy", "Builders", "Plumbing", "Electrical", "Dental", "Opticians",
    "Solicitors", "Accountants", "Roofing", "Catering", "Garage",
]
SYLLABLES = [
    "ka", "lo", "be", "mi", "ra", "to", "su", "ne", "vi", "da", "po", "ri", "fa", "go", "le",
    "zu", "ma", "ti", "no", "sa", "he", "ku", "ba", "di", "wo", "ja", "pe", "ro", "xa", "yu",
]
# fmt: on
CONTACTS = [
    ("Ada Byron", "ada@example.org", "+44 20 7946 0001"),
    ("Brian Kernighan", "bwk@example.org", "+44 20 7946 0002"),
    ("Grace Hopper", "grace@example.org", "+44 20 7946 0003"),
    ("Edsger Dijkstra", "ewd@example.org", "+44 20 7946 0004"),
    ("Barbara Liskov", "liskov@example.org", "+44 20 7946 0005"),
    ("Ken Thompson", "ken@example.org", "+44 20 7946 0006"),
    ("Frances Allen", "fran@example.org", "+44 20 7946 0007"),
    ("Donald Knuth", "knuth@example.org", "+44 20 7946 0008"),
]

# Word picks: n's own digits for the place (27,000 names), hashes for the rest, so the same n
# gives the same member at every size.
MEMBERS_SQL = """
INSERT INTO issuers_member (
    issuer_id, external_ref, legal_name, display_name, domains, country, contact_name,
    contact_email, contact_email_hash, contact_phone, restricted, marketing_opt_out, language,
    created_at, updated_at)
SELECT %(issuer)s, 'M-' || lpad(n::text, 7, '0'),
    initcap(place) || ' ' || noun || ' ' || trade || ' Ltd',
    adj || ' ' || noun || ' ' || trade,
    CASE WHEN n %% 10 = 0
        THEN jsonb_build_array(
            'www.' || place || '-' || n || '.example', 'shop.' || place || '-' || n || '.example')
        ELSE jsonb_build_array(place || '-' || lower(noun) || '-' || n || '.example') END,
    'GB', (%(names)s::text[])[contact], (%(emails)s::text[])[contact],
    (%(hashes)s::text[])[contact], (%(phones)s::text[])[contact], false, n %% 7 = 0, 'en',
    %(end)s - (%(size)s - n) * %(step)s - interval '1 minute',
    %(end)s - (%(size)s - n) * %(step)s
FROM generate_series(1, %(size)s) AS n, LATERAL (SELECT
    (%(syl)s::text[])[1 + n %% 30] || (%(syl)s::text[])[1 + (n / 30) %% 30]
        || (%(syl)s::text[])[1 + (n / 900) %% 30] AS place,
    (%(adj)s::text[])[1 + abs(hashint4(n * 7 + 1)) %% 20] AS adj,
    (%(noun)s::text[])[1 + abs(hashint4(n * 7 + 2)) %% 50] AS noun,
    (%(trade)s::text[])[1 + abs(hashint4(n * 7 + 3)) %% 12] AS trade,
    1 + abs(hashint4(n * 7 + 4)) %% 8 AS contact
) AS words
"""

# One seal per member, in one of three programmes (70 / 20 / 10 %). ``lapse`` is the renewal at
# which the member stops renewing (geometric, p = 0.08), ``age`` the renewals so far.
SEALS_SQL = """
INSERT INTO seals_seal (
    public_id, issuer_id, member_id, programme_id, status, status_reason, status_changed_at,
    valid_from, expires_at, status_list, status_list_index, version, created_at, updated_at)
SELECT public_id, %(issuer)s, id, programme, status, '', created_at, valid_from, expires_at,
    n / 131072, n %% 131072, 1, created_at, created_at
FROM (
    SELECT *,
        CASE WHEN roll < 2 THEN 'revoked' WHEN roll < 5 THEN 'suspended'
             WHEN valid_from > %(now)s THEN 'pending'
             WHEN expires_at <= %(now)s AND n %% 1000 <> 0 THEN 'expired'
             ELSE 'active' END AS status
    FROM (
        SELECT *,
            CASE WHEN n %% 20 = 0 THEN NULL
                 WHEN lapse <= age THEN valid_from + lapse * interval '1 year'
                 ELSE valid_from + (age + 1) * interval '1 year' END AS expires_at
        FROM (
            SELECT *,
                greatest(floor(extract(epoch FROM %(now)s - valid_from) / 31557600), 0)::int AS age
            FROM (
                SELECT m.id, n, m.created_at,
                    CASE WHEN n > %(size)s * 0.997
                        THEN %(now)s + (1 + n %% 30) * interval '1 day'
                        ELSE m.created_at END AS valid_from,
                    ceil(ln(1 - (abs(hashint4(n * 7 + 5)) %% 1000000 + 1) / 1000001.0)
                        / ln(0.92))::int AS lapse,
                    abs(hashint4(n * 7 + 6)) %% 100 AS roll,
                    CASE WHEN abs(hashint4(n * 7 + 7)) %% 10 < 7 THEN %(p0)s
                         WHEN abs(hashint4(n * 7 + 7)) %% 10 < 9 THEN %(p1)s
                         ELSE %(p2)s END AS programme,
                    substr(translate(encode(decode(md5(%(issuer)s || '-' || n), 'hex'), 'base64'),
                        '+/', '-_'), 1, 22) AS public_id
                FROM issuers_member m
                CROSS JOIN LATERAL (SELECT substr(m.external_ref, 3)::int AS n) AS parsed
                WHERE m.issuer_id = %(issuer)s
            ) AS base
        ) AS aged
    ) AS dated
) AS final
"""


@dataclass(frozen=True)
class Fixture:
    size: int
    now: datetime
    api_key: str
    member_id: int
    external_ref: str
    place: str
    domain: str


def _seed(size: int, now: datetime) -> None:
    from django.db import connection

    from issuers.encryption import blind_index, field_fernet
    from issuers.services import programme_create, programme_default
    from seals.registry import issuer_create

    issuer = issuer_create(slug=ISSUER_SLUG, name="Bench register")
    programmes = [
        programme_default(issuer).pk,
        programme_create(issuer=issuer, slug="pharmacy", name="Licensed pharmacy").pk,
        programme_create(issuer=issuer, slug="gold", name="Gold member").pk,
    ]
    fernet = field_fernet()

    def encrypt(value: str) -> str:
        return fernet.encrypt(value.encode()).decode()

    params = {
        "issuer": issuer.pk,
        "size": size,
        "end": now - timedelta(hours=1),
        "step": timedelta(days=5 * 365.25) / size,
        "now": now,
        "p0": programmes[0],
        "p1": programmes[1],
        "p2": programmes[2],
        "syl": SYLLABLES,
        "adj": ADJECTIVES,
        "noun": NOUNS,
        "trade": TRADES,
        "names": [encrypt(c[0]) for c in CONTACTS],
        "emails": [encrypt(c[1]) for c in CONTACTS],
        "hashes": [blind_index(c[1]) for c in CONTACTS],
        "phones": [encrypt(c[2]) for c in CONTACTS],
    }
    with connection.cursor() as cursor:
        cursor.execute(MEMBERS_SQL, params)
        cursor.execute(SEALS_SQL, params)
    # A neighbour, so the issuer filter is not a no-op.
    other = issuer_create(slug="bench-other", name="Another register")
    other_params = {
        **params,
        "issuer": other.pk,
        "size": 1000,
        "step": timedelta(days=365),
        "p0": programme_default(other).pk,
        "p1": programme_default(other).pk,
        "p2": programme_default(other).pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(MEMBERS_SQL, other_params)
        cursor.execute(SEALS_SQL, other_params)
        cursor.execute("VACUUM (ANALYZE) issuers_member")
        cursor.execute("VACUUM (ANALYZE) seals_seal")


def _fixture(size: int, now: datetime) -> Fixture:
    from issuers.models import ApiKey, Issuer, Member
    from issuers.services import apikey_create

    issuer = Issuer.objects.get(slug=ISSUER_SLUG)
    ApiKey.objects.filter(issuer=issuer, name="bench").delete()
    key = apikey_create(issuer=issuer, name="bench", scopes=["read"]).plaintext
    middle = Member.objects.get(issuer=issuer, external_ref=f"M-{size // 2:07d}")
    return Fixture(
        size=size,
        now=now,
        api_key=key,
        member_id=middle.pk,
        external_ref=middle.external_ref,
        place=middle.legal_name.split()[0],
        domain=middle.domains[0],
    )


def _cursor(path: str, position: str) -> str:
    """The ``cursor=...`` query DRF hands out for the page that starts after ``position``."""
    from rest_framework.pagination import Cursor

    from issuers.api.base import ApiCursorPagination

    pagination = ApiCursorPagination()
    pagination.base_url = path
    url = pagination.encode_cursor(Cursor(offset=0, reverse=False, position=position))
    return urlsplit(url).query


def _endpoints(fx: Fixture) -> list[tuple[str, str]]:
    from issuers.models import Member
    from seals.models import Seal

    def at_depth(queryset, field: str) -> str:
        # The row half-way down the list: a cursor there is what a client holds after
        # paging through half of it.
        return str(queryset.values_list(field, flat=True)[fx.size // 2])

    seals = Seal.objects.filter(issuer__slug=ISSUER_SLUG)
    members = Member.objects.filter(issuer__slug=ISSUER_SLUG)
    deep_seal = at_depth(seals.order_by("-created_at", "-id"), "created_at")
    deep_member = at_depth(members.order_by("-created_at", "-id"), "created_at")
    deep_name = at_depth(members.order_by("display_name", "id"), "display_name")
    soon = (fx.now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("seals", "/api/v1/seals"),
        ("seals, next page", "next:/api/v1/seals"),
        ("seals, deep cursor", f"/api/v1/seals?{_cursor('/api/v1/seals', deep_seal)}"),
        ("seals ?status=active", "/api/v1/seals?status=active"),
        ("seals ?status=expired", "/api/v1/seals?status=expired"),
        ("seals ?status=suspended", "/api/v1/seals?status=suspended"),
        ("seals ?status=revoked", "/api/v1/seals?status=revoked"),
        ("seals ?status=pending", "/api/v1/seals?status=pending"),
        ("seals ?expiring_before=+30d", f"/api/v1/seals?expiring_before={soon}"),
        ("seals ?programme= (10 %)", "/api/v1/seals?programme=gold"),
        ("seals ?member=", f"/api/v1/seals?member={fx.member_id}"),
        ("members", "/api/v1/members"),
        ("members, next page", "next:/api/v1/members"),
        ("members, deep cursor", f"/api/v1/members?{_cursor('/api/v1/members', deep_member)}"),
        ("members ?ordering=display_name", "/api/v1/members?ordering=display_name"),
        (
            "members ?ordering=display_name, deep",
            "/api/v1/members?ordering=display_name&" + _cursor("/api/v1/members", deep_name),
        ),
        ("members ?ordering=-legal_name", "/api/v1/members?ordering=-legal_name"),
        ("members ?ordering=external_ref", "/api/v1/members?ordering=external_ref"),
        ("members ?ordering=-updated_at", "/api/v1/members?ordering=-updated_at"),
        ("members ?q= rare place name", f"/api/v1/members?q={fx.place.lower()}"),
        ("members ?q= common word (2 %)", "/api/v1/members?q=crumb"),
        ("members ?q= two words", "/api/v1/members?q=golden%20crumb"),
        ("members ?q= external ref", f"/api/v1/members?q={fx.external_ref.lower()}"),
        ("members ?q= no match", "/api/v1/members?q=zzqxj"),
        ("members ?status=active", "/api/v1/members?status=active"),
        ("members ?status=expired", "/api/v1/members?status=expired"),
        ("members ?status=revoked", "/api/v1/members?status=revoked"),
        ("members ?expiring_before=+30d", f"/api/v1/members?expiring_before={soon}"),
        ("members ?programme= (10 %)", "/api/v1/members?programme=gold"),
        ("members ?domain=", f"/api/v1/members?domain={fx.domain}"),
        ("members ?external_ref=", f"/api/v1/members?external_ref={fx.external_ref}"),
    ]


def _measure(fx: Fixture, name: str, path: str, repeat: int) -> common.Timing:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {fx.api_key}")
    if path.startswith("next:"):
        first = client.get(path[len("next:") :])
        assert first.status_code == 200, (path, first.status_code, first.content[:300])
        path = first.json()["next"]
    times, cpu = common.time_requests(client, path, repeat)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return common.timing(
        name,
        times,
        cpu,
        queries=len(captured.captured_queries),
        rows=len(response.json()["results"]),
        sql=[
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and 'FROM "issuers_apikey"' not in q["sql"]
        ],
    )


def open_seeded(size: int, base_name: str, args: argparse.Namespace) -> Fixture:
    """The seeded scratch database of ``size`` (bench/common.py) and its sample rows."""
    now = common.open_database(
        size, base_name=base_name, reuse=args.reuse, slug=ISSUER_SLUG, seed=_seed
    )
    return _fixture(size, now)


def run(size: int, base_name: str, args: argparse.Namespace) -> list[common.Timing]:
    fx = open_seeded(size, base_name, args)
    # On a shared box the neighbours' load is part of every figure: say what it was.
    print(f"  load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    for label, path in _endpoints(fx):
        results.append(_measure(fx, label, path, args.repeat))
        common.report(results[-1], width=40, explain_sql=args.explain)
    common.close_database(size, base_name=base_name, keep=args.keep)
    return results


def _setup() -> None:
    from django.conf import settings

    # One key makes every request here: the per-key throttle would otherwise be what is timed.
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"api_key": "100000000/minute"}


if __name__ == "__main__":
    common.main("bench/api_lists.py", run, first_column="endpoint", setup=_setup)
