"""The interop suite's set-up: Node's verifiers installed from the committed lock file, a live
server whose public URLs point at itself.

``npm ci`` runs once per lock file (a stamp in node_modules records which), in the first test
that needs it, never at import. Without node/npm the tests skip with the reason, and fail under
TRUSTSEAL_REQUIRE_SERVICES=1 (the ``interop`` marker, tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import HAS_NODE, REQUIRE_SERVICES

HERE = Path(__file__).resolve().parent
MODULES = HERE / "node_modules"
STAMP = MODULES / ".trustseal-lock"


def _lock_digest() -> str:
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def node_verifiers() -> Path:
    if not HAS_NODE:
        message = "needs interop: apt-get install -y nodejs npm (node and npm on PATH)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (TRUSTSEAL_REQUIRE_SERVICES=1, so this is a failure)")
        pytest.skip(message)
    digest = _lock_digest()
    if not (STAMP.exists() and STAMP.read_text() == digest):
        # --ignore-scripts: nothing from the registry runs at install time.
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments, our lock file
            [shutil.which("npm") or "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
            timeout=600,
        )
        STAMP.write_text(digest)
    return HERE / "verifiers.mjs"


@pytest.fixture
def public_server(live_server, settings):
    """The live server, with the public URLs of credentials, keys and DIDs pointing at it."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server


@pytest.fixture
def run_verifier(node_verifiers, public_server):
    def run(verifier: str, seal_id: str) -> dict:
        completed = subprocess.run(  # noqa: S603 - node from PATH, our script, our server
            [
                shutil.which("node") or "node",
                str(node_verifiers),
                verifier,
                public_server.url,
                seal_id,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        lines = completed.stdout.strip().splitlines()
        assert completed.returncode == 0 and lines, completed.stderr
        return json.loads(lines[-1])

    return run
