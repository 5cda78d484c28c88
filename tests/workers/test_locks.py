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
