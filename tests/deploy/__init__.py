"""Tests of the deploy/ configs, run for real where they can be (nginx)."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

from tests.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent.parent


def _load_local():
    # deploy/ is not a package: deploy/nginx/local.py is a script that bench/ also imports.
    spec = importlib.util.spec_from_file_location(
        "deploy_nginx_local", ROOT / "deploy" / "nginx" / "local.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


local = _load_local()


@contextlib.contextmanager
def running_edge(prefix: Path, *, upstream: int) -> Iterator[str]:
    """The edge config ``make serve`` runs, on the real nginx in front of ``upstream``; its URL."""
    port = free_port()
    proc = local.start_nginx(prefix, local.edge_conf(prefix, listen=port, upstream=upstream))
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        local.stop(proc)
