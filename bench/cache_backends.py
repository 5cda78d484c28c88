"""Which cache backend the embedded default (no REDIS_URL) should use: latency and correctness.

Every process of ``make run`` (web, worker, beat) must see one cache and one set of counters, so
the candidates are the multi-process backends that need no server: diskcache's ``DjangoCache``
(SQLite in WAL mode plus files, under var/), Django's ``DatabaseCache`` on its own SQLite file
(not the application's, which imports write to) and Django's ``FileBasedCache``. LocMemCache is
the floor it replaces (one copy per process); Redis the production reference when REDIS_URL is
set. For each: µs per get (hit), set, add and incr in one process, then PROCS processes doing
INCRS increments each of one key at once: a backend whose incr is get-then-set loses counts.

Run: .venv/bin/python bench/cache_backends.py [--redis redis://127.0.0.1:6379/3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

N = 2000
PROCS = 4
INCRS = 500
VALUE = b"x" * 3000  # about one seal snapshot / PNG


def candidates(tmp: Path, redis_url: str) -> dict[str, dict]:
    backends = {
        "locmem (per process)": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "diskcache.DjangoCache": {
            "BACKEND": "diskcache.DjangoCache",
            "LOCATION": str(tmp / "diskcache"),
        },
        "django DatabaseCache (sqlite)": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bench_cache",
        },
        "django FileBasedCache": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp / "files"),
        },
    }
    for name, backend in backends.items():  # Django's default of 300 would cull measured keys
        if name.startswith(("locmem", "django")):
            backend["OPTIONS"] = {"MAX_ENTRIES": 100_000}
    if redis_url:
        backends["redis (reference)"] = {
            "BACKEND": "config.cache.RedisCache",  # the project's (one client per pool)
            "LOCATION": redis_url,
        }
    return backends


def setup(tmp: Path, backend: dict) -> None:
    sys.path.insert(0, os.fspath(Path(__file__).resolve().parent.parent))
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            CACHES={"default": backend},
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": str(tmp / "cache.sqlite3"),
                    "OPTIONS": {
                        "init_command": "PRAGMA journal_mode=WAL;",
                        "transaction_mode": "IMMEDIATE",
                        "timeout": 20,
                    },
                }
            },
            USE_TZ=True,
        )
        django.setup()


def micros(fn, n: int = N) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def single(tmp: str, backend: dict, queue) -> None:
    setup(Path(tmp), backend)
    from django.core.cache import cache
    from django.core.management import call_command

    if backend["BACKEND"].endswith("DatabaseCache"):
        call_command("createcachetable", verbosity=0)
    cache.clear()
    cache.set("hit", VALUE, 300)
    cache.set("n", 0, 300)
    queue.put(
        {
            "get": micros(lambda i: cache.get("hit")),
            "set": micros(lambda i: cache.set(f"k{i}", VALUE, 300)),
            "add": micros(lambda i: cache.add(f"a{i}", VALUE, 300)),
            "incr": micros(lambda i: cache.incr("n")),
        }
    )


def incrementer(tmp: str, backend: dict, start) -> None:
    setup(Path(tmp), backend)
    from django.core.cache import cache

    start.wait()
    for _ in range(INCRS):
        try:
            cache.incr("shared")
        except ValueError:  # locmem: this process's copy has no such key
            return


def shared_total(tmp: str, backend: dict, queue) -> None:
    setup(Path(tmp), backend)
    from django.core.cache import cache

    queue.put(cache.get("shared"))


def reset_shared(tmp: str, backend: dict) -> None:
    setup(Path(tmp), backend)
    from django.core.cache import cache

    cache.set("shared", 0, 300)


def run(name: str, backend: dict, tmp: str) -> str:
    # A fresh process per step: each backend gets its own Django setup, as make run's processes do.
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=single, args=(tmp, backend, queue))
    proc.start()
    figures = queue.get(timeout=300)
    proc.join()
    proc = ctx.Process(target=reset_shared, args=(tmp, backend))
    proc.start()
    proc.join()
    start = ctx.Event()
    procs = [ctx.Process(target=incrementer, args=(tmp, backend, start)) for _ in range(PROCS)]
    for p in procs:
        p.start()
    time.sleep(1)
    began = time.perf_counter()
    start.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - began
    proc = ctx.Process(target=shared_total, args=(tmp, backend, queue))
    proc.start()
    total = queue.get(timeout=60)
    proc.join()
    return (
        f"{name:<32}{figures['get']:>9.1f}{figures['set']:>9.1f}{figures['add']:>9.1f}"
        f"{figures['incr']:>9.1f}   "
        + (f"{total:>6} / {PROCS * INCRS} in {elapsed:.2f} s" if total else "not shared")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="", help="also measure Redis at this URL")
    args = parser.parse_args()
    print(f"median µs per call over {N} calls; {PROCS} processes x {INCRS} incr of one key")
    print(f"{'backend':<32}{'get':>9}{'set':>9}{'add':>9}{'incr':>9}   shared incr total")
    for name in candidates(Path("/"), args.redis):
        with tempfile.TemporaryDirectory(prefix="cache-bench-") as tmp:
            print(run(name, candidates(Path(tmp), args.redis)[name], tmp), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
