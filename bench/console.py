"""The console's member list and member page at 10,000, 100,000 and 1,000,000 members.

    DATABASE_URL=postgres://... .venv/bin/python bench/console.py
    [--sizes 10000,100000,1000000] [--repeat 40] [--reuse] [--keep] [--explain]

The data is bench/api_lists.py's (same seed SQL, same scratch databases ``<name>_bench_<size>``,
with bench/register.py's 2 % of members in France for ``country=``,
created here and dropped afterwards unless ``--keep``; ``--reuse`` keeps one already seeded, so
a database left by api_lists.py or register.py serves here too). An owner of the issuer, with a
TOTP second factor that their role is made to require, is signed in with the test client's
``force_login`` (the sign-in flow is not what is timed); every request then goes through the
whole stack: sessions, CSRF, the locale, ``staff_view`` (staff, role, second factor, the
issuer's scope), the list's selector, keyset paging and the template. p50/p95, CPU per request
(this process plus its PostgreSQL backend, from /proc), SQL queries and member rows on the page
are printed as a Markdown table; ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each page's
member queries.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_lists
import common
import register

# This file is bench/console.py: the project's ``console`` package must come first on the path,
# or Django's URL configuration would import this script in its place.
sys.path.remove(str(common.ROOT))
sys.path.insert(0, str(common.ROOT))

MEMBERS = "/console/members/"
STAFF_EMAIL = "bench-owner@bench-lists.example"
ROW = re.compile(rb'href="/console/members/\d+/"')
NEXT = re.compile(r'href="\?([^"]*)" rel="next"')


def _staff_client():
    """A signed-in owner of the bench issuer, their second factor on record."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.test import Client

    from issuers.models import Issuer, StaffRole
    from issuers.staff import staff_user_create

    issuer = Issuer.objects.get(slug=api_lists.ISSUER_SLUG)
    # Never typed: force_login signs in without it.
    staff = staff_user_create(
        issuer=issuer, email=STAFF_EMAIL, password=secrets.token_urlsafe(), role=StaffRole.OWNER
    )
    if not Authenticator.objects.filter(user=staff.user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(staff.user, generate_totp_secret())
    client = Client()
    client.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _cursor(*values: object) -> str:
    # The console's own cursor encoding, so a deep page is exactly the link a person would
    # hold after paging through half the list.
    from console.paging import _encode

    return _encode(list(values))


def _requests(fx: api_lists.Fixture, client) -> list[tuple[str, str]]:
    from issuers.models import Member

    members = Member.objects.filter(issuer__slug=api_lists.ISSUER_SLUG)
    half = fx.size // 2
    deep_name = members.order_by("display_name", "id").values_list("display_name", "id")[half]
    deep_new = members.order_by("-created_at", "-id").values_list("created_at", "id")[half]
    first = client.get(MEMBERS).content.decode()
    next_page = NEXT.search(first)
    assert next_page, "the first page links no next page"

    def q(**params: str) -> str:
        return f"{MEMBERS}?{urlencode(params)}"

    return [
        ("members, first page", MEMBERS),
        ("next page", f"{MEMBERS}?{next_page.group(1).replace('&amp;', '&')}"),
        ("deep cursor (name)", q(cursor=_cursor(*deep_name))),
        ("deep cursor (newest)", q(sort="-created_at", cursor=_cursor(*deep_new))),
        ("q= rare place name", q(q=fx.place.lower())),
        ("q= common word (2 %)", q(q="crumb")),
        ("q= two words", q(q="golden crumb")),
        ("q= membership number", q(q=fx.external_ref.lower())),
        ("q= no match", q(q="zzqxj")),
        ("domain=", q(domain=fx.domain)),
        ("status=active", q(status="active")),
        ("status=expired", q(status="expired")),
        ("status=suspended (3 %)", q(status="suspended")),
        ("status=revoked (2 %)", q(status="revoked")),
        ("status=pending (0.3 %)", q(status="pending")),
        ("programme= (10 %)", q(programme="gold")),
        ("programme= (20 %)", q(programme="pharmacy")),
        ("q= + status=", q(q="crumb", status="suspended")),
        ("status= + programme=", q(status="revoked", programme="gold")),
        ("country=FR (2 %)", q(country="FR")),
        ("country=FR, sort=-created_at", q(country="FR", sort="-created_at")),
        ("country= + status=", q(country="FR", status="suspended")),
        ("sort=-display_name", q(sort="-display_name")),
        ("sort=external_ref", q(sort="external_ref")),
        ("sort=-created_at", q(sort="-created_at")),
        ("sort=created_at", q(sort="created_at")),
        ("sort=-updated_at", q(sort="-updated_at")),
        ("q= common word, sort=-created_at", q(q="crumb", sort="-created_at")),
        # The seed's expired seals are its oldest members': newest first walks past the rest.
        ("status=expired, sort=-created_at", q(status="expired", sort="-created_at")),
        ("member page", f"{MEMBERS}{fx.member_id}/"),
    ]


def _measure(client, name: str, path: str, repeat: int) -> common.Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpu = common.time_requests(client, path, repeat)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return common.timing(
        name,
        times,
        cpu,
        queries=len(captured.captured_queries),
        rows=len(ROW.findall(response.content)),
        sql=[
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and 'FROM "issuers_member"' in q["sql"]
        ],
    )


def run(size: int, base_name: str, args: argparse.Namespace) -> list[common.Timing]:
    fx = api_lists.open_seeded(size, base_name, args)
    register.prepare(fx)
    client = _staff_client()
    print(f"  load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    for label, path in _requests(fx, client):
        results.append(_measure(client, label, path, args.repeat))
        common.report(results[-1], width=34, explain_sql=args.explain)
    common.close_database(size, base_name=base_name, keep=args.keep)
    return results


def _setup() -> None:
    from django.conf import settings

    # The check a deployment asking owners for a second factor makes on every page.
    settings.CONSOLE_MFA_REQUIRED_ROLES = ["owner"]


if __name__ == "__main__":
    common.main("bench/console.py", run, first_column="page", setup=_setup)
