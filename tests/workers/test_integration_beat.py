"""Two beats by mistake: every job still runs once per slot (a real worker and two real beats)."""

from __future__ import annotations

import itertools
import re
import time
from collections import defaultdict

import pytest

from tests.workers.harness import start_beat, start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INTERVAL = 5  # seconds; every job of the schedule runs this often for the test
DURATION = 60
JOBS = (
    "seals_refresh_status",
    "notices_plan",
    "outbox_relay",
    "stats_flush",
)
LINE = re.compile(r"beat job (\w+) (ran at ([\d.]+)|skipped)")


def test_two_beats_for_a_minute_run_each_job_slot_once(run_dir, capsys):
    env = {"TRUSTSEAL_BEAT_SECONDS": str(INTERVAL), "OUTBOX_RELAY_SECONDS": str(INTERVAL)}
    log = run_dir / "worker.log"
    worker = start_worker(log, "beat-test", **env)
    beats = [start_beat(run_dir / f"beat{i}.log", run_dir / f"schedule{i}", **env) for i in (1, 2)]
    try:
        time.sleep(DURATION)
    finally:
        for process in [*beats, worker]:
            stop(process)
    ran: dict[str, list[float]] = defaultdict(list)
    skipped: dict[str, int] = defaultdict(int)
    for match in LINE.finditer(log.read_text()):
        if match.group(3):
            ran[match.group(1)].append(float(match.group(3)))
        else:
            skipped[match.group(1)] += 1
    with capsys.disabled():
        print(f"\ntwo beats, {DURATION} s, a slot every {INTERVAL} s")
        print(f"{'job':<22}{'ran':>5}{'skipped':>9}{'closest runs (s)':>18}")
        for job in JOBS:
            gaps = [b - a for a, b in itertools.pairwise(ran[job])]
            print(f"{job:<22}{len(ran[job]):>5}{skipped[job]:>9}{min(gaps, default=0):>18.2f}")
    lock_ttl = int(INTERVAL * 0.9)
    for job in JOBS:
        runs = sorted(ran[job])
        assert len(runs) >= DURATION // INTERVAL - 3, (job, runs)
        # Never two runs inside one lock window: the second beat's copy was skipped.
        assert all(b - a >= lock_ttl - 0.1 for a, b in itertools.pairwise(runs)), runs
        assert len(runs) <= DURATION / lock_ttl + 1
        assert skipped[job] >= 1, f"the second beat never fired {job}"
