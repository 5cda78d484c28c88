"""`make run`'s process supervisor: starts each Procfile process, restarts one that exits, and
stops them all cleanly on Ctrl-C or SIGTERM.

    python deploy/supervise.py [-f Procfile.dev] [--grace 60] [name ...]

Written here rather than taken from a library (standard library only, ~200 lines) because none
of the kept ones does all of it: honcho, which ran `make run` before, has no restart, so a
worker that died in a Redis outage took web, beat and the sink down with it for good, and it
SIGKILLs whatever is still running 5 s after Ctrl-C, a warm Celery shutdown included.
supervisord restarts, but gives a process up (FATAL) after ``startretries`` quick failures —
exactly what an outage longer than a few seconds causes — wants its own config file and control
socket, and does not label the interleaved output by process as honcho did. And `make` dies of
the terminal's SIGINT itself whatever its recipe does ("make: *** ... Interrupt"), so whichever
runner is used must take the terminal's foreground away from make (step 1).

1. When started from a terminal this process becomes its own process group and takes the
   terminal's foreground, so Ctrl-C reaches it alone: not make (which then ends with the
   recipe's exit status, 0) and not the children, which each get exactly one signal from here
   (a second SIGINT would turn Celery's warm shutdown into a cold one).
2. Each process runs ``sh -c "exec <command>"`` in a session of its own; its output is printed
   line by line as honcho printed it: ``HH:MM:SS name.1 | line``.
3. A process that exits while nothing is stopping is restarted after a back-off that doubles
   from 1 s to 30 s, and starts again from 1 s once a run lasted a minute. Its process group is
   SIGKILLed first, so no orphan (a pool child, a server worker) outlives its leader.
4. On SIGINT/SIGTERM/SIGHUP every leader gets SIGTERM (Celery: warm shutdown, granian: graceful
   stop) and ``--grace`` seconds to exit; then what is left is SIGKILLed. Exit status 0 when
   everything stopped within the grace period (a second Ctrl-C stops at once, status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0  # a run this long resets the back-off
_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
_print_lock = threading.Lock()


def say(name: str, width: int, text: str) -> None:
    with _print_lock:
        sys.stdout.write(f"{time.strftime('%H:%M:%S')} {name:<{width}} | {text}\n")
        sys.stdout.flush()


def read_procfile(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            entries[match.group(1)] = match.group(2)
    return entries


@dataclass
class Process:
    name: str
    command: str
    width: int
    popen: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = 0.0  # start now
    reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}.1"

    def start(self) -> None:
        self.popen = subprocess.Popen(  # noqa: S603 -- the commands are the repository's Procfile
            ["/bin/sh", "-c", f"exec {self.command}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started, self.restart_at = time.monotonic(), None
        self.reader = threading.Thread(target=self._copy_output, args=(self.popen,), daemon=True)
        self.reader.start()
        say("system", self.width, f"{self.label} started (pid={self.popen.pid})")

    def _copy_output(self, popen: subprocess.Popen[bytes]) -> None:
        if popen.stdout is None:  # started with stdout=PIPE, so always there
            return
        for raw in iter(popen.stdout.readline, b""):
            say(self.label, self.width, raw.decode(errors="replace").rstrip("\n"))

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, signum: int) -> None:
        if self.popen is not None and self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signum)

    def kill_group(self) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)

    def reap(self) -> None:
        """After the leader exited: its group killed, its output drained."""
        self.kill_group()
        if self.reader is not None:
            self.reader.join(timeout=2)


class Supervisor:
    def __init__(self, entries: dict[str, str], grace: float) -> None:
        width = max(len("system"), *(len(name) + 2 for name in entries))
        self.width = width
        self.processes = [Process(name, command, width) for name, command in entries.items()]
        self.grace = grace
        self.stop_requested = 0

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_requested += 1

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)
        try:
            while not self.stop_requested:
                self._tend()
                time.sleep(0.1)
        finally:
            status = self._stop_all()
        return status

    def _tend(self) -> None:
        now = time.monotonic()
        for process in self.processes:
            if process.restart_at is not None:
                if now >= process.restart_at:
                    process.start()
                continue
            if process.popen is None:  # never started: restart_at says when
                continue
            code = process.popen.poll()
            if code is None:
                continue
            process.reap()
            ran = now - process.started
            if ran >= HEALTHY_AFTER:
                process.delay = FIRST_DELAY
            process.restart_at = now + process.delay
            say(
                "system",
                self.width,
                f"{process.label} exited with code {code} after {ran:.1f} s; "
                f"restarting in {process.delay:.0f} s",
            )
            process.delay = min(MAX_DELAY, process.delay * 2)

    def _stop_all(self) -> int:
        say("system", self.width, "stopping all processes (Ctrl-C again to kill them now)")
        for process in self.processes:
            process.send(signal.SIGTERM)
        first = self.stop_requested
        deadline = time.monotonic() + self.grace
        while any(p.running() for p in self.processes):
            if time.monotonic() > deadline or self.stop_requested > first:
                break
            time.sleep(0.1)
        status = 0
        for process in self.processes:
            if process.running():
                say("system", self.width, f"{process.label} still running: killed")
                status = 1
            process.reap()
        say("system", self.width, "all processes stopped")
        return status


@contextlib.contextmanager
def terminal_foreground():
    """Step 1 of the module docstring; nothing happens when not run from a terminal."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    try:
        previous = os.tcgetpgrp(fd)
    except OSError:
        os.close(fd)
        yield
        return
    if previous != os.getpgrp():  # started in the background: leave the terminal alone
        os.close(fd)
        yield
        return
    # A process group may only take the foreground with SIGTTOU ignored (it is not yet it).
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, previous)
        signal.signal(signal.SIGTTOU, old)
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--procfile", default="Procfile.dev", type=Path)
    parser.add_argument(
        "--grace",
        type=float,
        default=float(os.environ.get("TRUSTSEAL_STOP_GRACE", "60")),
        help="seconds each process gets to stop after SIGTERM (default 60)",
    )
    parser.add_argument("names", nargs="*", help="only these Procfile processes")
    args = parser.parse_args(argv)
    entries = read_procfile(args.procfile)
    if args.names:
        unknown = set(args.names) - set(entries)
        if unknown:
            parser.error(f"not in {args.procfile}: {', '.join(sorted(unknown))}")
        entries = {name: entries[name] for name in args.names}
    with terminal_foreground():
        return Supervisor(entries, args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
