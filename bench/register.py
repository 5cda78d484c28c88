"""The public register's search and "check a website" at 10,000, 100,000 and 1,000,000 members.

    DATABASE_URL=postgres://... .venv/bin/python bench/register.py
    [--sizes 10000,100000,1000000] [--repeat 40] [--reuse] [--keep] [--explain]

The data is bench/api_lists.py's (same seed SQL, same scratch databases ``<name>_bench_<size>``,
created here and dropped afterwards unless ``--keep``; ``--reuse`` keeps one already seeded),
plus what only the register reads: 2 % of the members in France (``country=FR``) and 4 % who
asked not to be listed (``register_listed = false``). Each request goes through the whole Django
stack (test client, URL routing, the rate limiter switched off, the view, the template or the
JSON/CSV writer); p50/p95 and CPU per request (this process plus its PostgreSQL backend, from
/proc) are printed as a Markdown table. ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each
request's member query.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_lists
import common  # sets sys.path and DJANGO_SETTINGS_MODULE

REGISTER = f"/issuers/{api_lists.ISSUER_SLUG}/register"
# Register-only shape of the data: members abroad and members who left the register.
# Only the rows it changes (6 %): rewriting all of them (and their trigram index entries) takes
# minutes at 1,000,000, and a reused database already has them.
REGISTER_SQL = """
UPDATE issuers_member SET
    country = CASE WHEN n %% 50 = 0 THEN 'FR' ELSE country END,
    register_listed = CASE WHEN n %% 25 = 1 THEN false ELSE register_listed END
FROM (SELECT id AS member, substr(external_ref, 3)::int AS n
      FROM issuers_member WHERE issuer_id = %(issuer)s) AS parsed
WHERE id = member AND (
    (n %% 50 = 0 AND country <> 'FR')
    OR (n %% 25 = 1 AND register_listed IS DISTINCT FROM false))
"""


def prepare(fx: api_lists.Fixture) -> None:
    from django.db import connection

    from issuers.models import Issuer

    issuer = Issuer.objects.get(slug=api_lists.ISSUER_SLUG)
    with connection.cursor() as cursor:
        cursor.execute(REGISTER_SQL, {"issuer": issuer.pk})
        cursor.execute("VACUUM (ANALYZE) issuers_member")


def _requests(fx: api_lists.Fixture) -> list[tuple[str, str]]:
    from django.test import Client

    from issuers.models import Member
    from seals.register import encode_cursor
    from seals.selectors import RegisterCursor

    members = Member.objects.filter(issuer__slug=api_lists.ISSUER_SLUG).order_by(
        "display_name", "id"
    )
    deep = members.values_list("display_name", "id")[fx.size // 2]
    first = Client().get(REGISTER, {"format": "json"}).json()
    return [
        ("register, HTML", REGISTER),
        ("register, JSON", f"{REGISTER}?format=json"),
        ("register, CSV 200 rows", f"{REGISTER}?format=csv&limit=200"),
        ("register, next page", first["next"]),
        (
            "register, deep cursor",
            f"{REGISTER}?format=json&cursor={encode_cursor(RegisterCursor(*deep))}",
        ),
        ("q= rare place name", f"{REGISTER}?format=json&q={fx.place.lower()}"),
        ("q= common word (2 %)", f"{REGISTER}?format=json&q=crumb"),
        ("q= two words", f"{REGISTER}?format=json&q=golden%20crumb"),
        ("q= membership number", f"{REGISTER}?format=json&q={fx.external_ref.lower()}"),
        ("q= no match", f"{REGISTER}?format=json&q=zzqxj"),
        ("domain=", f"{REGISTER}?format=json&domain={fx.domain}"),
        ("domain= a subdomain", f"{REGISTER}?format=json&domain=www.{fx.domain}"),
        ("country=FR (2 %)", f"{REGISTER}?format=json&country=FR"),
        ("country=FR, HTML", f"{REGISTER}?country=FR"),
        ("q= + country=", f"{REGISTER}?format=json&q=crumb&country=FR"),
        ("check, a member's host", f"/check?format=json&domain=shop.{fx.domain}"),
        ("check, nobody's host", "/check?format=json&domain=nobody.example"),
        ("check, HTML", f"/check?domain={fx.domain}"),
    ]


def _measure(name: str, path: str, repeat: int) -> common.Timing:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    times, cpu = common.time_requests(client, path, repeat)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if "json" in response["Content-Type"]:
        rows = len(response.json()["results"])
    elif "csv" in response["Content-Type"]:
        rows = response.content.count(b"\n") - 1
    else:
        rows = response.content.count(b'href="/verify/')
    return common.timing(
        name,
        times,
        cpu,
        queries=len(captured.captured_queries),
        rows=rows,
        sql=[q["sql"] for q in captured.captured_queries if 'FROM "issuers_member"' in q["sql"]],
    )


def run(size: int, base_name: str, args: argparse.Namespace) -> list[common.Timing]:
    fx = api_lists.open_seeded(size, base_name, args)
    prepare(fx)
    print(f"  load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    for label, path in _requests(fx):
        results.append(_measure(label, path, args.repeat))
        common.report(results[-1], width=28, explain_sql=args.explain)
    common.close_database(size, base_name=base_name, keep=args.keep)
    return results


def _setup() -> None:
    from django.conf import settings

    # One client makes every request: the per-network limit would otherwise be what is timed.
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "search": 0}


if __name__ == "__main__":
    common.main("bench/register.py", run, first_column="request", setup=_setup)
