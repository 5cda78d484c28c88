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
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import api_lists  # noqa: E402  (sets sys.path and DJANGO_SETTINGS_MODULE)

REGISTER = f"/issuers/{api_lists.ISSUER_SLUG}/register"
# Register-only shape of the data: members abroad and members who left the register.
REGISTER_SQL = """
UPDATE issuers_member SET
    country = CASE WHEN substr(external_ref, 3)::int %% 50 = 0 THEN 'FR' ELSE country END,
    register_listed = CASE WHEN substr(external_ref, 3)::int %% 25 = 1 THEN false ELSE NULL END
WHERE issuer_id = %(issuer)s
"""


@dataclass(frozen=True)
class Timing:
    name: str
    p50: float
    p95: float
    cpu: float | None
    rows: int
    sql: list[str]


def _prepare(fx: api_lists.Fixture) -> None:
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


def _measure(name: str, path: str, repeat: int) -> Timing:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for _ in range(2):  # warm: connection, plans, templates
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    backend_before, own_before = api_lists._backend_cpu(), time.process_time()
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    backend_after, own_after = api_lists._backend_cpu(), time.process_time()
    cpu = None
    if backend_before is not None and backend_after is not None:
        cpu = (backend_after - backend_before + own_after - own_before) * 1000 / repeat
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if "json" in response["Content-Type"]:
        rows = len(response.json()["results"])
    elif "csv" in response["Content-Type"]:
        rows = response.content.count(b"\n") - 1
    else:
        rows = response.content.count(b'href="/verify/')
    times.sort()
    return Timing(
        name=name,
        p50=statistics.median(times),
        p95=times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        cpu=cpu,
        rows=rows,
        sql=[q["sql"] for q in captured.captured_queries if 'FROM "issuers_member"' in q["sql"]],
    )


def run(size: int, *, base_name: str, repeat: int, reuse: bool, keep: bool, explain: bool):
    from django.core.management import call_command
    from django.db import connection

    from issuers.models import Issuer

    name = f"{base_name}_bench_{size}"
    exists = bool(api_lists._admin("SELECT 1 FROM pg_database WHERE datname = %s", name))
    if exists and not reuse:
        api_lists._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    if not (exists and reuse):
        api_lists._admin(f'CREATE DATABASE "{name}"')
    api_lists._use_database(name)
    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend, so its CPU can be read
    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    seeded = Issuer.objects.filter(slug=api_lists.ISSUER_SLUG).first()
    if seeded is None:
        started = time.perf_counter()
        api_lists._seed(size, now)
        print(f"\n{size:,}: seeded {name} in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        now = seeded.created_at
        print(f"\n{size:,}: reused {name}", flush=True)
    fx = api_lists._fixture(size, now)
    _prepare(fx)
    print(f"  load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results = []
    for label, path in _requests(fx):
        timing = _measure(label, path, repeat)
        results.append(timing)
        cpu = "-" if timing.cpu is None else f"{timing.cpu:.1f}"
        print(
            f"  {label:28} p50 {timing.p50:7.1f} ms  p95 {timing.p95:7.1f} ms  "
            f"CPU {cpu:>6} ms  ({timing.rows} rows)",
            flush=True,
        )
        for sql in timing.sql if explain else ():
            print("    " + api_lists._explain(sql).replace("\n", "\n    "))
    connection.close()
    if not keep:
        api_lists._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the member queries")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/register.py needs DATABASE_URL=postgres://... (the target is PostgreSQL)")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # One client makes every request: the per-network limit would otherwise be what is timed.
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "search": 0}
    from config.tenancy import scopes_disabled

    base_name = connection.settings_dict["NAME"]
    # An operator's tool spanning issuers (seeding, picking sample rows); each request still
    # opens its own scope (the register its issuer's).
    with scopes_disabled():
        table = _run_all(sizes, base_name, args)
    _print(sizes, table)


def _run_all(sizes: list[int], base_name: str, args: argparse.Namespace) -> dict:
    return {
        size: run(
            size,
            base_name=base_name,
            repeat=args.repeat,
            reuse=args.reuse,
            keep=args.keep,
            explain=args.explain,
        )
        for size in sizes
    }


def _print(sizes: list[int], table: dict) -> None:
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    header = " | ".join(f"{size:,}: p50 / p95 (CPU) ms" for size in sizes)
    print(f"\n| request | {header} |")
    print("| --- |" + " ---: |" * len(sizes))

    def cell(t: Timing) -> str:
        return f"{t.p50:.1f} / {t.p95:.1f} ({'-' if t.cpu is None else f'{t.cpu:.1f}'})"

    for i, timing in enumerate(table[sizes[0]]):
        print(f"| {timing.name} | {' | '.join(cell(table[s][i]) for s in sizes)} |")


if __name__ == "__main__":
    main()
