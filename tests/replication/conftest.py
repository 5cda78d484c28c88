"""Session-wide private engines for the replication tests (tests/replication/engines.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.replication import engines


@pytest.fixture(scope="session")
def postgres_pair():
    pair = engines.postgres_pair()
    try:
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(pair.base, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_sentinels():
    engines_set = engines.redis_sentinel_set()
    try:
        yield engines_set
    finally:
        engines_set.stop()
        shutil.rmtree(engines_set.base, ignore_errors=True)
