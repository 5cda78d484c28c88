"""Fault injection for the delivery-semantics tests: a named point where a worker can die.

Inert unless ``TRUSTSEAL_KILL_POINT`` is set (only the integration tests set it). On the
``TRUSTSEAL_KILL_AFTER``-th hit of that point the process appends the point and the object id to
``TRUSTSEAL_KILL_LOG`` and sends itself SIGKILL: no cleanup, no ack, exactly what a crashed or
OOM-killed host looks like to the broker and the database.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str, ref: object = "") -> None:
    target = os.environ.get("TRUSTSEAL_KILL_POINT")
    if not target or target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] < int(os.environ.get("TRUSTSEAL_KILL_AFTER", "1")):
        return
    log = os.environ.get("TRUSTSEAL_KILL_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{name} {ref}\n")
            fh.flush()
            os.fsync(fh.fileno())
    os.kill(os.getpid(), signal.SIGKILL)
