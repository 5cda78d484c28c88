"""docs/api.md runs: every ``sh`` block, in order, with bash, curl and jq against a live server.

``manage.py`` commands run as subprocesses on the test database (TRUSTSEAL_TEST_DB_NAME), so
the walk-through is exercised exactly as a reader would type it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from issuers.models import Member, Programme
from seals.models import Seal, SealEvent
from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


TOOLS = ("bash", "curl", "jq")


def require_tools(*, which=shutil.which, required: bool = REQUIRE_SERVICES) -> None:
    """Skip, with the reason, where a tool is missing; in CI (TRUSTSEAL_REQUIRE_SERVICES=1) fail
    instead, like the service gate of tests/conftest.py, so a missing jq cannot look green."""
    missing = [tool for tool in TOOLS if not which(tool)]
    if not missing:
        return
    message = f"needs {', '.join(missing)}: apt-get install -y {' '.join(missing)}"
    if required:
        pytest.fail(f"{message} (TRUSTSEAL_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(message)


def test_a_missing_tool_fails_in_ci_and_skips_locally():
    without_jq = {"bash": "/bin/bash", "curl": "/usr/bin/curl"}.get

    with pytest.raises(pytest.fail.Exception, match="needs jq"):
        require_tools(which=without_jq, required=True)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y jq"):
        require_tools(which=without_jq, required=False)
    require_tools(which=lambda tool: f"/usr/bin/{tool}", required=True)  # all there: runs


def doc_script() -> str:
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) >= 8, "the walk-through lost its commands"
    return "\n".join(blocks)


@pytest.mark.django_db(transaction=True)
def test_every_command_of_the_walkthrough_runs(live_server, tmp_path):
    require_tools()
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    env = {
        **os.environ,
        "TS": live_server.url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TRUSTSEAL_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
    }
    script = "set -euo pipefail\n" + doc_script()
    # The script is this repository's own docs/api.md: running it is the point of the test.
    result = subprocess.run(  # noqa: S603
        [shutil.which("bash") or "/bin/bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '"Guild of Bakers"' in out
    assert "master-baker" in out
    assert re.search(r"member \d+", out) and re.search(r"seal [A-Za-z0-9_-]{22}", out)
    assert '[3,"domains"' in out and '[3,"contact_email"' in out  # per-row errors, row 3
    assert '"suspended"' in out and '"active"' in out
    assert "2030-01-31T00:00:00Z" in out
    # The dry run's counts the guide shows are the ones it prints.
    assert (
        '{"created":0,"updated":0,"unchanged":2,"seals_awarded":0,"seals_renewed":0,'
        '"seals_unchanged":2,"error_count":2}'
    ) in out
    assert "<a href=" in out and "<img src=" in out
    assert '"code":"not_found"' in out
    assert '"counted":true' in out and '"days":30}' in out  # the default 30-day window
    assert '{"date":"2026-01-01","impressions":0,"verifications":0,"misuse_hits":0}' in out
    assert "[\"from\",\"'from' (2026-03-10) is after 'to' (2026-03-01)" in out
    assert Member.objects.filter(external_ref__in=["GB-0100", "GB-0101"]).count() == 2
    assert not Member.objects.filter(external_ref="GB-0102").exists()
    assert Programme.objects.filter(slug="master-baker").exists()
    seal = Seal.objects.get(member__external_ref="GB-0042")
    kinds = list(SealEvent.objects.filter(seal=seal).values_list("kind", flat=True))
    assert kinds == ["issued", "suspended", "reinstated", "renewed"]
