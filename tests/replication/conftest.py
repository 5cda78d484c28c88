"""Session-wide private engines for the replication tests (tests/replication/engines.py).

The PostgreSQL pair takes longest to get ready (initdb, a base backup, then the product's
migrations, ~45 s on a loaded 2-core box), so it is started in the background as soon as the
first replication test is set up, and the Redis test (which needs no PostgreSQL) runs first
meanwhile: the two together take about as long as the PostgreSQL one alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.replication import engines
from tests.replication.engines import ROOT, app_env

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-pair")
_started: list[Future] = []


def _pair_migrated() -> tuple[engines.PostgresPair, str]:
    pair = engines.postgres_pair()
    var_dir = tempfile.mkdtemp(prefix="ts-repl-var-")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=app_env(pair, var_dir, replicas=False),
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    except BaseException:
        pair.stop()
        raise
    return pair, var_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The Redis tests first, while the PostgreSQL pair gets ready (module docstring).
    def order(item: pytest.Item) -> int:
        return 0 if "test_redis_sentinel" in item.nodeid else 1

    replication = [i for i in items if "tests/replication/" in i.nodeid]
    if replication:
        first = items.index(replication[0])
        rest = [i for i in items if i not in replication]
        items[:] = rest[:first] + sorted(replication, key=order) + rest[first:]


@pytest.fixture(autouse=True, scope="session")
def _start_postgres_pair(request):
    if not engines.missing_engines() and any(
        "test_postgres_replica" in item.nodeid for item in request.session.items
    ):
        _started.append(_pool.submit(_pair_migrated))
    yield
    for future in _started:
        if future.done() and not future.exception():
            pair, var_dir = future.result()
            pair.stop()
            shutil.rmtree(pair.base, ignore_errors=True)
            shutil.rmtree(var_dir, ignore_errors=True)
    _pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_pair_migrated() -> tuple[engines.PostgresPair, str]:
    """The pair and the product's var/ folder, once its database is migrated."""
    if not _started:
        _started.append(_pool.submit(_pair_migrated))
    return _started[0].result(timeout=600)


@pytest.fixture(scope="session")
def redis_sentinels():
    engines_set = engines.redis_sentinel_set()
    try:
        yield engines_set
    finally:
        engines_set.stop()
        shutil.rmtree(engines_set.base, ignore_errors=True)
