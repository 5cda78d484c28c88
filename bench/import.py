"""Bulk import benchmark: 100,000 CSV rows (members + seals) through seals.imports.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ts_bench .venv/bin/python bench/import.py
    [--rows 100000] [--keep]

Creates a throw-away issuer, generates the rows, runs the same code path as the API's import
job (parse, check every row, write in one transaction) and prints rows/s and total seconds,
split into parse, check+write. Goal: 100,000 rows in under 60 s on
PostgreSQL. Then runs the same file again (every row an update without change) and prints that.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def generate(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["external_ref", "legal_name", "domains", "country", "contact_email", "expires_at"]
    )
    for i in range(rows):
        writer.writerow(
            [
                f"B-{i:07d}",
                f"Bench Member {i} Ltd",
                f"m{i}.bench.example www.m{i}.bench.example",
                "GB",
                f"contact{i}@m{i}.bench.example",
                "2030-06-30",
            ]
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench issuer afterwards")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from config.tenancy import issuer_scope
    from issuers.models import Issuer
    from seals.imports import import_parse, import_rows
    from seals.models import Seal
    from seals.registry import issuer_create

    if connection.vendor != "postgresql":
        print(f"warning: running on {connection.vendor}; the goal is stated for PostgreSQL")
    slug = f"bench-{int(time.time())}"
    issuer = issuer_create(slug=slug, name="Bench Association")
    data = generate(args.rows)
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB CSV, database {connection.vendor}")

    with issuer_scope(issuer):  # as the import worker runs, inside its issuer's scope
        for label in ("first import (create)", "second import (unchanged)"):
            started = time.perf_counter()
            rows = import_parse(data=data, fmt="csv")
            parsed = time.perf_counter()
            report = import_rows(issuer=issuer, rows=rows, actor="bench")
            done = time.perf_counter()
            total = done - started
            print(
                f"{label}: {total:.1f} s total ({parsed - started:.1f} s parse, "
                f"{done - parsed:.1f} s check+write), {args.rows / total:,.0f} rows/s; "
                f"created={report.created} updated={report.updated} failed={report.failed}"
            )
            assert report.failed == 0, report.errors[:3]
        if not args.keep:
            # SealEvent is append-only at the ORM level; a bench issuer's history goes by raw SQL.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM seals_sealevent WHERE issuer_id = %s", [issuer.pk])
            Seal.objects.filter(issuer=issuer).delete()  # programmes protect their seals
            Issuer.objects.filter(pk=issuer.pk).delete()


if __name__ == "__main__":
    main()
