"""Loopback ports for the servers tests start themselves (nginx, app servers, private services)."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A port free right now, so two runs on one machine (or two test workers) do not collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, *, timeout: float = 10) -> None:
    """Return once ``port`` accepts connections; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
