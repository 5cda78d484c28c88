"""Bulk import benchmark: 200,000 CSV rows (members + seals) through the import job, as a worker
runs it, with the worker's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ts_bench .venv/bin/python bench/import.py
    DATABASE_URL=sqlite:///var/bench-import.sqlite3 .venv/bin/python bench/import.py
    [--rows 200000] [--format csv|json] [--keep]

Creates a throw-away issuer (migrating the database first), generates the rows and starts the
import as the API does (``import_start``: the file read once as a stream, packed, an ImportJob
and its ``import.run`` outbox message). Then a fresh process, which has loaded Django and the
worker's task modules, takes its peak-RSS mark (Linux ``/proc/self/clear_refs``), runs the outbox
message as ``workers.outbox_run`` would (``outbox.core.run``) and reports seconds, rows/s and
its peak RSS above that mark. Goals: 100,000 rows in under 60 s on PostgreSQL; a worker within
150 MB above its baseline for 200,000 rows. Then the same file again (every row an update
without change). Last, a dry run of the file with every row's country wrong: every row error
stored (``ImportRowError``, a batch's errors with its commit), and the time to read them all
back as the CSV download and the API list do.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


COLUMNS = ["external_ref", "legal_name", "domains", "country", "contact_email", "expires_at"]


def _row(i: int) -> list[str]:
    return [
        f"B-{i:07d}",
        f"Bench Member {i} Ltd",
        f"m{i}.bench.example www.m{i}.bench.example",
        "GB",
        f"contact{i}@m{i}.bench.example",
        "2030-06-30",
    ]


def generate(rows: int, fmt: str = "csv", *, bad: bool = False) -> bytes:
    if fmt == "json":
        return json.dumps([dict(zip(COLUMNS, _row(i), strict=True)) for i in range(rows)]).encode()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_bad(_row(i)) if bad else _row(i) for i in range(rows))
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def _bad(row: list[str]) -> list[str]:
    return [*row[:3], "Great Britain", *row[4:]]


def _status_kb(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} in /proc/self/status")


def run_message(message_id: int) -> None:
    """The worker side (a child process): baseline, run, peak."""
    import django

    django.setup()
    import workers.tasks  # noqa: F401 - what a worker has loaded: every task and handler
    from outbox import core

    # Reset the peak (VmHWM) to the current RSS, so the peak below is this run's alone.
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kb("VmRSS")
    started, cpu = time.perf_counter(), _cpu_seconds()
    outcome = core.run(message_id)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    peak = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "outcome": outcome,
                "seconds": seconds,
                "cpu": cpu,
                "baseline": baseline,
                "peak": peak,
            }
        )
    )


def _cpu_seconds() -> float:
    # This process's CPU (not the database server's): on a shared machine the wall clock says
    # more about the neighbours than about the import.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--keep", action="store_true", help="keep the bench issuer afterwards")
    parser.add_argument("--run-message", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_message:
        run_message(args.run_message)
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.tenancy import scopes_disabled
    from issuers.models import ImportJob, Issuer
    from outbox import core
    from outbox.models import Message
    from seals import imports
    from seals.models import Seal
    from seals.registry import issuer_create

    call_command("migrate", verbosity=0)
    # The child process runs the message; no broker needed (nor left with a copy of it).
    core.enqueue = lambda *args, **kwargs: None
    slug = f"bench-{int(time.time())}"
    issuer = issuer_create(slug=slug, name="Bench Association")
    data = generate(args.rows, args.format)
    print(
        f"{args.rows} rows, {len(data) / 1e6:.1f} MB {args.format.upper()}, "
        f"database {connection.vendor}"
    )

    with scopes_disabled():  # the bench spans its own issuer's rows
        for label in ("first import (create)", "second import (unchanged)"):
            started = time.perf_counter()
            job, _ = imports.import_start(issuer=issuer, data=data, fmt=args.format, actor="bench")
            queued = time.perf_counter() - started
            message = Message.objects.get(topic=imports.IMPORT_TOPIC, payload__job_id=job.pk)
            child = subprocess.run(
                [sys.executable, __file__, "--run-message", str(message.pk)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            worker = json.loads(child.stdout.strip().splitlines()[-1])
            job = ImportJob.objects.defer("source").get(pk=job.pk)
            total = queued + worker["seconds"]
            print(
                f"{label}: {total:.1f} s ({queued:.1f} s start: read, count and pack; "
                f"{worker['seconds']:.1f} s job, {worker['cpu']:.1f} s of it the worker's CPU), "
                f"{args.rows / total:,.0f} rows/s; "
                f"worker peak RSS {(worker['peak'] - worker['baseline']) / 1024:.0f} MB above its "
                f"baseline of {worker['baseline'] / 1024:.0f} MB; state={job.state} "
                f"created={job.created} updated={job.updated} unchanged={job.unchanged} "
                f"failed={job.failed}"
            )
            assert worker["outcome"] == "done" and job.state == "succeeded", (
                worker,
                job.errors[:3],
            )
        if args.format == "csv":
            bad = generate(args.rows, bad=True)
            started = time.perf_counter()
            job, _ = imports.import_start(
                issuer=issuer, data=bad, fmt="csv", dry_run=True, actor="bench"
            )
            message = Message.objects.get(topic=imports.IMPORT_TOPIC, payload__job_id=job.pk)
            subprocess.run(
                [sys.executable, __file__, "--run-message", str(message.pk)],
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            ran = time.perf_counter() - started
            job = ImportJob.objects.defer("source").get(pk=job.pk)
            started = time.perf_counter()
            read = sum(1 for _ in imports.import_row_errors(job=job).iterator(chunk_size=2000))
            listed = time.perf_counter() - started
            print(
                f"dry run, every row bad: {ran:.1f} s, {job.error_count} errors stored "
                f"({len(job.errors)} on the job); all {read} read back in {listed:.2f} s"
            )
        if not args.keep:
            # SealEvent is append-only at the ORM level; a bench issuer's history goes by raw SQL.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM seals_sealevent WHERE issuer_id = %s", [issuer.pk])
            Seal.objects.filter(issuer=issuer).delete()  # programmes protect their seals
            Issuer.objects.filter(pk=issuer.pk).delete()


if __name__ == "__main__":
    main()
