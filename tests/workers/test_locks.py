"""The beat lock: one run per slot, whichever beat fires it."""

import pytest

from workers.base import run_beat_job
from workers.locks import beat_lock


def test_a_second_run_in_the_same_slot_is_refused(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert beat_lock("job-a", interval=60) is True
    assert beat_lock("job-a", interval=60) is False
    assert beat_lock("job-b", interval=60) is True


def test_the_slot_frees_itself_after_most_of_the_interval(settings, tmp_path):
    import time_machine

    # The file fallback: Redis keeps its own clock, which time-machine cannot move.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.VAR_DIR = tmp_path
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        assert beat_lock("job-e", interval=10) is True
        traveller.shift(5)
        assert beat_lock("job-e", interval=10) is False
        traveller.shift(4)
        assert beat_lock("job-e", interval=10) is True


def test_run_beat_job_runs_the_job_once_per_slot(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    calls = []
    assert run_beat_job("job-c", lambda: calls.append(1) or "done") == "done"
    assert run_beat_job("job-c", lambda: calls.append(1)) is None
    assert calls == [1]


@pytest.mark.redis
def test_the_lock_is_shared_through_redis(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert beat_lock("job-d", interval=60) is True
    assert beat_lock("job-d", interval=60) is False
    assert not (tmp_path / "locks").exists()


def test_each_beat_job_is_locked_for_its_own_schedule_interval(settings, tmp_path):
    import time_machine

    from workers.base import beat_interval

    assert beat_interval("workers.privacy_daily") == 3600
    assert beat_interval("workers.stats_flush") == settings.TRUSTSEAL_BEAT_SECONDS
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.VAR_DIR = tmp_path
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
