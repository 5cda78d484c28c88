"""What the list benchmarks share: the command line, the scratch database per size, timing one
request through the Django test client (wall and CPU time), and the printed rows and table.

The scripts using it (api_lists.py, register.py, console.py) each bring their own requests;
the seeding is api_lists.py's, so all of them read the same data at a size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


@dataclass(frozen=True)
class Timing:
    name: str
    p50: float
    p95: float
    worst: float
    cpu: float | None  # ms per request, this process plus its PostgreSQL backend
    queries: int
    rows: int
    sql: list[str] = field(default_factory=list)  # the queries --explain prints


def admin(statement: str, *args: object) -> list[tuple]:
    """Run one statement against the server's ``postgres`` database (outside any scratch one)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        cursor = conn.execute(statement, args or None)
        return cursor.fetchall() if cursor.description else []


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def backend_cpu() -> float | None:
    """User + system CPU seconds of this connection's PostgreSQL backend (same host only)."""
    from django.db import connection

    try:
        with open(f"/proc/{connection.connection.info.backend_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def database_name(base_name: str, size: int) -> str:
    return f"{base_name}_bench_{size}"


def open_database(
    size: int,
    *,
    base_name: str,
    reuse: bool,
    slug: str,
    seed: Callable[[int, datetime], None],
) -> datetime:
    """Switch to the scratch database of ``size`` (created, migrated and seeded unless ``reuse``
    finds one already seeded: issuer ``slug`` exists) and return the clock the seed wrote its
    statuses against."""
    from django.core.management import call_command
    from django.db import connection

    from issuers.models import Issuer

    name = database_name(base_name, size)
    exists = bool(admin("SELECT 1 FROM pg_database WHERE datname = %s", name))
    if exists and not reuse:
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    if not (exists and reuse):
        admin(f'CREATE DATABASE "{name}"')
    use_database(name)
    # One connection for the whole run, so its backend's CPU time can be read (backend_cpu).
    connection.settings_dict["CONN_MAX_AGE"] = None
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    seeded = Issuer.objects.filter(slug=slug).first()
    if seeded is not None:
        print(f"\n{size:,}: reused {name}, migrate took {migrated:.1f} s", flush=True)
        return seeded.created_at  # the seed's clock, so the statuses it wrote still hold
    now = datetime.now(UTC)
    started = time.perf_counter()
    seed(size, now)
    print(f"\n{size:,}: seeded {name} in {time.perf_counter() - started:.1f} s", flush=True)
    return now


def close_database(size: int, *, base_name: str, keep: bool) -> None:
    from django.db import connection

    connection.close()
    if not keep:
        admin(f'DROP DATABASE "{database_name(base_name, size)}" WITH (FORCE)')


def time_requests(client: Any, path: str, repeat: int) -> tuple[list[float], float | None]:
    """``repeat`` GETs of ``path`` after two to warm up (connection, plans, templates): the
    sorted wall times in ms and the CPU ms per request."""
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    # CPU time does not grow with the neighbours' load as wall time does (a shared box).
    backend_before, own_before = backend_cpu(), time.process_time()
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    backend_after, own_after = backend_cpu(), time.process_time()
    cpu = None
    if backend_before is not None and backend_after is not None:
        cpu = (backend_after - backend_before + own_after - own_before) * 1000 / repeat
    times.sort()
    return times, cpu


def timing(
    name: str,
    times: list[float],
    cpu: float | None,
    *,
    queries: int,
    rows: int,
    sql: list[str],
) -> Timing:
    return Timing(
        name=name,
        p50=statistics.median(times),
        p95=times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        worst=times[-1],
        cpu=cpu,
        queries=queries,
        rows=rows,
        sql=sql,
    )


def report(timing: Timing, *, width: int, explain_sql: bool) -> None:
    """One measured request as it finishes (a long run shows its progress)."""
    cpu = "-" if timing.cpu is None else f"{timing.cpu:.1f}"
    print(
        f"  {timing.name:{width}} p50 {timing.p50:7.1f} ms  p95 {timing.p95:7.1f} ms  "
        f"CPU {cpu:>6} ms  ({timing.queries} queries, {timing.rows} rows)",
        flush=True,
    )
    for sql in timing.sql if explain_sql else ():
        print("    " + explain(sql).replace("\n", "\n    "), flush=True)


def print_table(sizes: list[int], table: dict[int, list[Timing]], *, first_column: str) -> None:
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    header = " | ".join(f"{size:,}: p50 / p95 (CPU) ms" for size in sizes)
    print(f"\n| {first_column} | {header} |")
    print("| --- |" + " ---: |" * len(sizes))

    def cell(t: Timing) -> str:
        return f"{t.p50:.1f} / {t.p95:.1f} ({'-' if t.cpu is None else f'{t.cpu:.1f}'})"

    for i, row in enumerate(table[sizes[0]]):
        print(f"| {row.name} | {' | '.join(cell(table[s][i]) for s in sizes)} |")


RunSize = Callable[[int, str, argparse.Namespace], list[Timing]]


def main(script: str, run: RunSize, *, first_column: str, setup: Callable[[], None]) -> None:
    """Parse the shared options, set Django up (``setup`` then adjusts its settings), run every
    size in turn (``run(size, base_name, args)``) and print the table."""
    parser = argparse.ArgumentParser(prog=script)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the list queries")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit(f"{script} needs DATABASE_URL=postgres://... (the target is PostgreSQL)")
    import django

    django.setup()
    from django.db import connection

    from config.heap import settle
    from config.tenancy import scopes_disabled

    setup()
    settle()  # as config.wsgi does: the requests timed here run in a server's settled heap
    base_name = connection.settings_dict["NAME"]
    # An operator's tool spanning issuers (seeding, picking sample rows); each request still
    # opens its own scope (the API key's issuer, the register's, the signed-in staff's).
    with scopes_disabled():
        table = {size: run(size, base_name, args) for size in sizes}
    print_table(sizes, table, first_column=first_column)
