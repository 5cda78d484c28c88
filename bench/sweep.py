"""Status sweep benchmark: 1,000,000 seals, 10,000 of them due, swept by one run.

    DATABASE_URL=postgres://... .venv/bin/python bench/sweep.py [--seals N] [--due N]

Builds the fixture with PostgreSQL COPY into a scratch database (``<name>_bench``, created and
dropped here, so the real one is never touched), then times ``seals_refresh_status`` and prints
the figure. The due seals are spread over 20 issuers; half are pending seals that start, half
active ones that expire. Target: under 10 s, well inside one beat interval (60 s).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def _scratch_database() -> str:
    import environ

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench/sweep.py needs DATABASE_URL=postgres://... (the target is PostgreSQL)")
    name = environ.Env.db_url_config(url)["NAME"] + "_bench"
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    return name


def _recreate(name: str) -> None:
    from common import admin  # bench/common.py, beside this script

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def build(seals: int, due: int, issuers: int = 20) -> datetime:
    from django.db import connection

    from issuers.services import programme_default
    from seals.registry import issuer_create

    now = datetime.now(UTC)
    made = [issuer_create(slug=f"bench-{i}", name=f"Bench issuer {i}") for i in range(issuers)]
    programmes = [programme_default(issuer).pk for issuer in made]
    with connection.cursor() as cursor:
        _copy(
            cursor.cursor,
            "issuers_member",
            [
                "id",
                "issuer_id",
                "external_ref",
                "legal_name",
                "display_name",
                "domains",
                "country",
                "contact_name",
                "contact_email",
                "contact_email_hash",
                "contact_phone",
                "restricted",
                "marketing_opt_out",
                "language",
                "created_at",
                "updated_at",
            ],
            (
                (
                    n + 1,
                    made[n % issuers].pk,
                    f"B-{n}",
                    f"Member {n}",
                    f"Member {n}",
                    "[]",
                    "GB",
                    "",
                    "",
                    "",
                    "",
                    "f",
                    "f",
                    "en",
                    now.isoformat(),
                    now.isoformat(),
                )
                for n in range(seals)
            ),
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('issuers_member', 'id'), %s)", [seals])

        def seal_row(n: int):
            issuer = n % issuers
            if n < due // 2:  # pending, starts now-ish
                status, start, end = (
                    "pending",
                    now - timedelta(minutes=5),
                    now + timedelta(days=300),
                )
            elif n < due:  # active, expired a minute ago
                status, start, end = "active", now - timedelta(days=365), now - timedelta(minutes=1)
            else:
                status = "active"
                start = now - timedelta(days=n % 300)
                end = now + timedelta(days=1 + n % 360)
            return (
                n + 1,
                f"bench{n:017d}",
                made[issuer].pk,
                n + 1,
                programmes[issuer],
                status,
                "",
                now.isoformat(),
                start.isoformat(),
                end.isoformat(),
                1,
                now.isoformat(),
                now.isoformat(),
                n // 131072,  # status list number and index, as assigned on award
                n % 131072,
            )

        _copy(
            cursor.cursor,
            "seals_seal",
            [
                "id",
                "public_id",
                "issuer_id",
                "member_id",
                "programme_id",
                "status",
                "status_reason",
                "status_changed_at",
                "valid_from",
                "expires_at",
                "version",
                "created_at",
                "updated_at",
                "status_list",
                "status_list_index",
            ],
            (seal_row(n) for n in range(seals)),
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('seals_seal', 'id'), %s)", [seals])
        cursor.execute("ANALYZE")
    return now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seals", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    name = _scratch_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.tenancy import scopes_disabled

    _recreate(name)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with scopes_disabled():  # the fixture writes every issuer's rows, as a migration would
        now = build(args.seals, args.due)
    print(f"fixture: {args.seals:,} seals, {args.due:,} due, {time.perf_counter() - started:.1f} s")

    from seals.models import SealEvent
    from seals.transitions import seals_refresh_status

    started = time.perf_counter()
    with scopes_disabled():  # as beat runs it (workers.base.run_beat_job)
        result = seals_refresh_status(now=now + timedelta(seconds=1))
    elapsed = time.perf_counter() - started
    with scopes_disabled():
        events = SealEvent.objects.filter(actor="system").count()
    print(
        f"sweep: {result.activated:,} activated + {result.expired:,} expired "
        f"({events:,} chained events) in {elapsed:.2f} s"
    )
    started = time.perf_counter()
    with scopes_disabled():
        again = seals_refresh_status(now=now + timedelta(seconds=2))
    print(
        f"second run (idempotent): {again.activated + again.expired} changes in "
        f"{time.perf_counter() - started:.2f} s"
    )
    connection.close()
    _recreate(name)  # leave an empty scratch database, not 1M rows


if __name__ == "__main__":
    main()
