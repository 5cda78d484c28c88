"""The package as a user gets it: ``pip install ./verifier`` into a fresh environment, then
its console script against a running server and against a bundle file, offline."""

from __future__ import annotations

import ast
import json
import os
import site
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.factories import MemberFactory, award
from transparency.services import log_catch_up

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "verifier"


def test_the_package_imports_nothing_of_the_server_nor_django():
    imported = set()
    for path in (PACKAGE / "src" / "trustseal_verify").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    server = {"django", "rest_framework", "config", "seals", "issuers", "transparency", "requests"}
    assert not imported & server
    assert {"jwt", "cryptography"} <= imported


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the package installed by pip. Its dependencies (cryptography, PyJWT)
    are the suite's own, seen through a .pth file, so nothing is downloaded for them."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(  # noqa: S603
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "suite.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(  # noqa: S603 - the suite's pip, installing into the new venv
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(PACKAGE)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    script = venv / "bin" / "trustseal-verify"
    assert script.exists()
    return script


@pytest.fixture
def public_server(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_installed_command_checks_a_live_seal_and_its_offline_bundle(
    installed, public_server, issuer, tmp_path
):
    seal = award(MemberFactory(issuer=issuer))
    log_catch_up(issuer_id=issuer.pk)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    url = f"{public_server.url}/verify/{seal.public_id}"

    online = subprocess.run(  # noqa: S603 - the script just installed, our server
        [str(installed), url, "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert online.returncode == 0, online.stdout + online.stderr
    assert json.loads(online.stdout)["verdict"]["verdict"] == "valid"

    monitor = subprocess.run(  # noqa: S603
        [
            str(installed),
            "monitor",
            f"{public_server.url}/issuers/{issuer.slug}",
            "--state",
            str(tmp_path / "state.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert monitor.returncode == 0, monitor.stdout + monitor.stderr

    bundle = tmp_path / "bundle.json"
    with urllib.request.urlopen(f"{url}/bundle.json") as response:  # noqa: S310 - our server
        bundle.write_bytes(response.read())
    offline = subprocess.run(  # noqa: S603
        [str(installed), str(bundle), "--offline"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "status evidence of" in offline.stdout
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = subprocess.run(  # noqa: S603
        [str(installed), url.replace(public_server.url, f"http://127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert down.returncode == 2, down.stdout
