"""The beat lock: one run per slot, whichever beat fires it, in whichever process."""

import subprocess
import sys

import pytest

from workers.base import run_beat_job
from workers.locks import beat_lock


@pytest.fixture
def disk_cache(settings, tmp_path):
    """The embedded default's cache in the test's own folder: unlike Redis it keeps the clock
    time-machine moves, so a lock's expiry can be travelled to."""
    settings.CACHES = {"default": {"BACKEND": "diskcache.DjangoCache", "LOCATION": str(tmp_path)}}


def test_a_second_run_in_the_same_slot_is_refused():
    assert beat_lock("job-a", interval=60) is True
    assert beat_lock("job-a", interval=60) is False
    assert beat_lock("job-b", interval=60) is True


def test_the_slot_frees_itself_after_most_of_the_interval(disk_cache):
    import time_machine

    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        assert beat_lock("job-e", interval=10) is True
        traveller.shift(5)
        assert beat_lock("job-e", interval=10) is False
        traveller.shift(4)
        assert beat_lock("job-e", interval=10) is True


def test_run_beat_job_runs_the_job_once_per_slot():
    calls = []
    assert run_beat_job("job-c", lambda: calls.append(1) or "done") == "done"
    assert run_beat_job("job-c", lambda: calls.append(1)) is None
    assert calls == [1]


def test_a_lock_taken_in_another_process_binds_this_one():
    # make run's worker has two pool processes: the cache both see is what makes the lock hold.
    from tests.workers.harness import ROOT, process_env

    code = "import django; django.setup(); from workers.locks import beat_lock; "
    code += "print(beat_lock('job-x', interval=60))"
    taken = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert taken.stdout.strip() == "True"
    assert beat_lock("job-x", interval=60) is False


def test_each_beat_job_is_locked_for_its_own_schedule_interval(settings, disk_cache):
    import time_machine

    from workers.base import beat_interval

    assert beat_interval("workers.privacy_daily") == 3600
    assert beat_interval("workers.stats_flush") == settings.TRUSTSEAL_BEAT_SECONDS
    calls = []
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        run_beat_job("privacy_daily", lambda: calls.append(1))
        traveller.shift(60)  # a second beat, a minute out of phase: the hour's slot is taken
        run_beat_job("privacy_daily", lambda: calls.append(2))
        traveller.shift(50 * 60)
        run_beat_job("privacy_daily", lambda: calls.append(3))
        traveller.shift(10 * 60)  # the next hour
        run_beat_job("privacy_daily", lambda: calls.append(4))
    assert calls == [1, 4]


def test_a_job_off_the_schedule_falls_back_to_the_common_interval(settings):
    from workers.base import beat_interval

    assert beat_interval("workers.not_scheduled") == settings.TRUSTSEAL_BEAT_SECONDS


# --- the execution lock: a run never overlaps the next ----------------------------------------
def _beat_job_in_thread(name, job, results):
    import threading

    from django.db import connections

    def target():
        try:
            results.append(run_beat_job(name, job))
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_two_concurrent_runs_of_a_long_job_run_it_once(monkeypatch):
    import threading

    monkeypatch.setattr("workers.locks.beat_lock", lambda name, *, interval: True)
    started, finish = threading.Event(), threading.Event()
    runs = []

    def long_job():
        runs.append(1)
        started.set()
        finish.wait(10)
        return "done"

    results: list = []
    first = _beat_job_in_thread("long-job", long_job, results)
    assert started.wait(10)
    # The next slot (its slot lock is free) while the first run still goes: it skips.
    assert run_beat_job("long-job", long_job) is None
    finish.set()
    first.join(10)
    assert runs == [1] and results == ["done"]
    # Released when the run ended: the slot after that runs again.
    assert run_beat_job("long-job", lambda: "again") == "again"


def test_the_lock_is_renewed_past_its_ttl_while_the_job_runs():
    import time

    from workers.locks import execution_lock

    with execution_lock("renewed", ttl=1) as held:
        assert held
        time.sleep(2.5)  # two and a half TTLs: only renewal keeps it
        with execution_lock("renewed", ttl=1) as other:
            assert other is False
    with execution_lock("renewed", ttl=1) as after:
        assert after is True


def test_a_crashed_holders_lock_expires_within_its_ttl():
    import time

    from workers.locks import _lease, execution_lock

    crashed = _lease("crashed", 1)  # taken, then never renewed nor released
    assert crashed.acquire()
    with execution_lock("crashed", ttl=1) as held:
        assert held is False
    time.sleep(1.2)
    with execution_lock("crashed", ttl=1) as held:
        assert held is True


def test_a_lease_never_releases_a_lock_another_run_took_after_it_expired():
    import time

    from workers.locks import _lease

    stalled = _lease("stolen", 1)
    assert stalled.acquire()
    time.sleep(1.2)
    later = _lease("stolen", 5)
    assert later.acquire()
    assert stalled.renew() is False
    stalled.release()  # must leave the later holder's lock in place
    assert _lease("stolen", 5).acquire() is False


def test_every_periodic_job_goes_through_the_beat_job_locks(settings, monkeypatch):
    import importlib

    from celery import current_app

    importlib.import_module("workers.tasks")
    seen = []
    monkeypatch.setattr("workers.base.run_beat_job", lambda name, job: seen.append(name))
    for module in (
        "credential_tasks",
        "misuse_tasks",
        "notice_tasks",
        "outbox_tasks",
        "privacy_tasks",
        "seal_tasks",
        "stats_tasks",
        "transparency_tasks",
    ):
        monkeypatch.setattr(f"workers.{module}.run_beat_job", lambda name, job: seen.append(name))
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in sorted(scheduled):
        current_app.tasks[task].run()
    assert sorted(f"workers.{name}" for name in seen) == sorted(scheduled)
