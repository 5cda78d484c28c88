"""Floors for the libraries with recent security fixes.

No vulnerability database is reachable from the build machines, so the versions known to carry
the fixes are asserted here and in pyproject.toml; raise both together.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

FLOORS = {
    "PyJWT": (2, 14),
    "pillow": (12, 3),
    "Django": (5, 2, 19),
}
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


@pytest.mark.parametrize("package", list(FLOORS))
def test_the_installed_version_is_at_or_above_its_security_floor(package):
    assert _release(version(package)) >= FLOORS[package], (package, version(package))


@pytest.mark.parametrize("package", list(FLOORS))
def test_pyproject_declares_the_same_floor(package):
    text = PYPROJECT.read_text()
    match = re.search(rf'"{package}(?:\[[^\]]*\])?>=([\d.]+)', text, re.IGNORECASE)
    assert match, f"{package} has no floor in pyproject.toml"
    assert _release(match[1]) >= FLOORS[package], (package, match[1])


def test_django_stays_on_the_5_2_long_term_series():
    assert _release(version("Django"))[:2] == (5, 2)
