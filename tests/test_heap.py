"""The web entry points settle the heap: what a loaded Django holds is frozen out of the
collector's walks (config.heap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_loading_the_application_freezes_what_it_loaded(module, tmp_path):
    env = {**os.environ, "TRUSTSEAL_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = f"import gc, {module}; print(gc.get_freeze_count(), 'console.views' in sys.modules)"
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", "import sys; " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    frozen, views_loaded = done.stdout.split()
    # Tens of thousands of objects: Django, the URLconf and the views it imports.
    assert int(frozen) > 20_000 and views_loaded == "True"
