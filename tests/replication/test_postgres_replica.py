"""A real streaming replica, paused far behind its primary, never makes a revoked seal valid.

The primary and replica are private (tests/replication/engines.py); the product runs in its
own process (tests/replication/app.py) with DATABASE_URL on the primary and
DATABASE_REPLICA_URLS on the replica, as production would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.replication.engines import ROOT, app_env

pytestmark = [pytest.mark.slow, pytest.mark.replication]


def _app(env, *args: str) -> dict:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tests.replication.app", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_paused_replica_never_shows_a_revoked_seal_as_valid(postgres_pair_migrated):
    pair, var_dir = postgres_pair_migrated
    seen = _app(app_env(pair, var_dir, replicas=True), "scenario")
    before, after = seen["before"], seen["after"]
    assert before["json"] == "active" and before["register"] == ["active"]
    assert before["replica_queries"] > 0  # the register's search did run on the replica
    # The replica is behind (replay paused): it still holds the seal as active ...
    assert seen["replica_meanwhile"] == [["active"]]
    # ... and no public answer says so.
    assert after["json"] == "revoked"
    assert after["page_revoked"] and after["image_revoked"] and not after["image_valid"]
    assert after["register"] == ["revoked"]
    assert after["revocation_bit"] is True
    assert after["replica_queries"] > 0
