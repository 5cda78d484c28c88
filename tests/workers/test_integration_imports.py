"""An import whose worker is SIGKILLed mid-run completes on the next worker, every row once.

A real ``celery -A config worker`` (tests/workers/harness.py) runs a queued import through the
outbox and is killed with SIGKILL once the write phase has committed a batch; a second worker
is started while this process runs the outbox relay (what beat does every
OUTBOX_RELAY_SECONDS). The job must end within five minutes of the kill, with counts and rows
as if nothing had happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.utils import timezone

from issuers.models import ImportJob, Member
from outbox import core
from seals.chain import verify_chain
from seals.imports import import_start
from seals.models import Seal, SealEvent
from tests.factories import IssuerFactory
from tests.seals.test_api_imports import csv_bytes, good_rows
from tests.workers.harness import start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 3000
# Short enough for the test to see the takeover soon after the kill; a batch of 250 rows takes
# well under this even on a loaded machine, and every batch renews the lease.
WORKER_ENV = {"IMPORT_LEASE_SECONDS": "15", "IMPORT_BATCH_ROWS": "250"}
FINISHED = (ImportJob.State.SUCCEEDED, ImportJob.State.FAILED)


def wait_for(condition: Callable[[], bool], *, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def test_an_import_whose_worker_is_killed_completes_with_every_row_once(run_dir):
    issuer = IssuerFactory()
    job, report = import_start(
        issuer=issuer, data=csv_bytes(good_rows(ROWS)), fmt="csv", actor="test"
    )
    assert report is None

    def row() -> ImportJob:
        return ImportJob.objects.defer("source").get(pk=job.pk)

    first = start_worker(run_dir / "worker.log", "import-1", **WORKER_ENV)
    try:
        writing = wait_for(lambda: row().phase == "write" and row().cursor > 0, timeout=240)
        assert writing, (row().state, row().phase, row().cursor)
    finally:
        first.kill()  # SIGKILL: no shutdown, no acknowledgement, the lease left to run out
        first.wait()
    killed_at = time.monotonic()
    died = row()
    assert died.state == "running" and 0 < died.cursor < ROWS, (died.state, died.cursor)

    second = start_worker(run_dir / "worker.log", "import-2", **WORKER_ENV)
    try:

        def finished() -> bool:
            core.relay(now=timezone.now())
            return row().state in FINISHED

        assert wait_for(finished, timeout=300, every=1), (row().state, row().cursor)
    finally:
        stop(second)
    took = time.monotonic() - killed_at
    print(f"\nkilled at row {died.cursor} of {ROWS} (phase write); finished {took:.0f} s later")

    done = row()
    assert (done.state, done.reason) == ("succeeded", "")
    assert done.attempts == 2
    assert took < 300
    assert (done.total, done.processed, done.created, done.failed) == (ROWS, ROWS, ROWS, 0)
    members = Member.objects.filter(issuer=issuer)
    assert members.count() == ROWS
    assert members.values("external_ref").distinct().count() == ROWS
    assert Seal.objects.filter(issuer=issuer).count() == ROWS
    assert SealEvent.objects.filter(issuer=issuer, kind="issued").count() == ROWS
    assert verify_chain(issuer).ok
    assert not core.Message.objects.filter(topic="import.run").exists()
