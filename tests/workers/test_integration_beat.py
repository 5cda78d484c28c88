"""Two beats by mistake: every job still runs once per slot (a real worker and two real beats)."""

from __future__ import annotations

import itertools
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest

from tests.workers.harness import start_beat, start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INTERVAL = 5  # seconds; every job of the schedule runs this often for the test
RUNS = 9  # per job: enough slots for both beats to have fired into each other's
# The runs are awaited, not timed: a loaded box starts the processes late and drops slots whose
# message expired in the queue, which costs time but proves nothing. ~60 s on a quiet box.
DEADLINE = 600
JOBS = (
    "seals_refresh_status",
    "notices_plan",
    "outbox_relay",
    "stats_flush",
)
LINE = re.compile(r"beat job (\w+) (?:ran at ([\d.]+) in ([\d.]+)s|skipped)")


@dataclass
class Slots:
    started: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @classmethod
    def read(cls, text: str) -> Slots:
        slots = cls()
        # Whole lines only: the worker may be half-way through writing the last one.
        for match in LINE.finditer(text[: text.rfind("\n") + 1]):
            job, ran_at, took = match.groups()
            if ran_at is None:
                slots.skipped[job] += 1
            else:
                # The log line is written when the run ends; the lock was taken when it began.
                # A loaded box stretches runs unevenly, so only the start says which slot it was.
                slots.started[job].append(float(ran_at) - float(took))
        return slots

    def complete(self) -> bool:
        return all(len(self.started[job]) >= RUNS and self.skipped[job] for job in JOBS)


def test_two_beats_run_each_job_slot_once(run_dir, capsys):
    env = {"TRUSTSEAL_BEAT_SECONDS": str(INTERVAL), "OUTBOX_RELAY_SECONDS": str(INTERVAL)}
    log = run_dir / "worker.log"
    began = time.monotonic()
    worker = start_worker(log, "beat-test", **env)
    beats = [start_beat(run_dir / f"beat{i}.log", run_dir / f"schedule{i}", **env) for i in (1, 2)]
    try:
        deadline = began + DEADLINE
        while not Slots.read(log.read_text()).complete() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()[-2000:]
            assert all(beat.poll() is None for beat in beats), "a beat died"
            time.sleep(0.5)
    finally:
        for process in [*beats, worker]:
            stop(process)
    took = time.monotonic() - began
    slots = Slots.read(log.read_text())
    with capsys.disabled():
        print(f"\ntwo beats, a slot every {INTERVAL} s, {RUNS} runs of each job in {took:.0f} s")
        print(f"{'job':<22}{'ran':>5}{'skipped':>9}{'closest runs (s)':>18}")
        for job in JOBS:
            gaps = [b - a for a, b in itertools.pairwise(sorted(slots.started[job]))]
            print(
                f"{job:<22}{len(slots.started[job]):>5}{slots.skipped[job]:>9}"
                f"{min(gaps, default=0):>18.2f}"
            )
    lock_ttl = int(INTERVAL * 0.9)
    # A start is read a moment after the lock was taken (the reply, then the clock): on a loaded
    # box that moment can reach a tenth of a second.
    slack = 0.25
    for job in JOBS:
        runs = sorted(slots.started[job])
        assert len(runs) >= RUNS, f"{job} ran {len(runs)} times in {took:.0f} s: {runs}"
        # Never two runs inside one lock window: the second beat's copy was skipped. (So there
        # are never more runs than lock windows either.)
        assert all(b - a >= lock_ttl - slack for a, b in itertools.pairwise(runs)), (job, runs)
        assert slots.skipped[job] >= 1, f"the second beat never fired {job}"
