"""In-process render cost of one seal image (targets: medium PNG < 5 ms, SVG < 1 ms).

"cold" renders a member name never drawn before (the other lines are shared with earlier
seals, as in production); "repeat" renders the same card again. Prints ms per image.

Run: TRUSTSEAL_VAR_DIR=/tmp/bench .venv/bin/python bench/render.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from seals.render import Card, render  # noqa: E402

N = 300


def card(i: int, state: str = "active") -> Card:
    return Card(
        state=state,
        issuer="Guild of Demo Traders",
        programme="Accredited Member",
        member=f"Member Company {i:05d} Ltd",
        checked=date(2026, 11, 22),
    )


def per_image(fmt: str, size: str, *, cold: bool) -> list[float]:
    times = []
    for i in range(N):
        c = card(100_000 + i if cold else 1)
        start = time.perf_counter()
        render(c, fmt=fmt, size=size, theme="light")
        times.append((time.perf_counter() - start) * 1000)
    return times


render(card(0), fmt="png", size="medium", theme="light")  # fonts and backgrounds loaded once
print(f"{'image':<22}{'median ms':>10}{'p90 ms':>9}")
for fmt, size, cold in (
    ("png", "medium", True),
    ("png", "medium", False),
    ("png", "large", True),
    ("svg", "medium", True),
):
    t = sorted(per_image(fmt, size, cold=cold))
    label = f"{fmt} {size} {'cold' if cold else 'repeat'}"
    print(f"{label:<22}{statistics.median(t):>10.2f}{t[int(len(t) * 0.9)]:>9.2f}")
