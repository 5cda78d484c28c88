"""Tests of the deploy/ configs, run for real where they can be (nginx)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
