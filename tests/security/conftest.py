"""Fixtures of the security tests and the summary line each of them reports.

Tests record figures with ``report(name, **counts)``; pytest prints them after the run whatever
the capture mode, so CI logs show how many requests the matrix and the fuzzer tried.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api_support import api, other_api  # noqa: F401

_FIGURES: dict[str, dict[str, Any]] = {}


def report(name: str, **counts: Any) -> None:
    _FIGURES[name] = counts


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("security figures")
    for name, counts in sorted(_FIGURES.items()):
        figures = ", ".join(f"{key} {value}" for key, value in counts.items())
        terminalreporter.write_line(f"{name}: {figures}")


@pytest.fixture
def figures() -> Any:
    return report
