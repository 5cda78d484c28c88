"""In-process render cost of one seal image, per size and PNG scale.

"cold" renders a member name never drawn before (the other lines are shared with earlier
seals, as in production); "repeat" renders the same card again. Prints ms per image. A cold
SVG pays for the font subset of the new name's characters (seals/render/svg.py).

Run: TRUSTSEAL_VAR_DIR=/tmp/bench .venv/bin/python bench/render.py
"""

from __future__ import annotations

import inspect
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

N = int(os.environ.get("BENCH_N", "300"))
# The same script measures a release before ?scale= existed (1x only there).
SCALED = "scale" in inspect.signature(render).parameters
NAMES = ["Boulangerie", "Müller", "Company", "Traders", "Bäckerei", "Panadería", "Atelier"]


def card(i: int, state: str = "active") -> Card:
    # Cold names vary in their letters too, as real names do (the SVG subsets by character).
    return Card(
        state=state,
        issuer="Guild of Demo Traders",
        programme="Accredited Member",
        member=f"{NAMES[i % len(NAMES)]} {chr(65 + i % 26)}{chr(97 + i // 26 % 26)} {i:05d} Ltd",
        checked=date(2026, 11, 22),
    )


def per_image(fmt: str, size: str, *, cold: bool, scale: int = 1, start_at: int = 0) -> list:
    times = []
    extra = {"scale": scale} if SCALED else {}
    for i in range(N):
        c = card(start_at + i if cold else 1)
        start = time.perf_counter()
        render(c, fmt=fmt, size=size, theme="light", **extra)
        times.append((time.perf_counter() - start) * 1000)
    return times


render(card(0), fmt="png", size="medium", theme="light")  # fonts and backgrounds loaded once
render(card(0), fmt="svg", size="medium", theme="light")
print(f"{'image':<24}{'median ms':>10}{'p90 ms':>9}")
runs = [("png", "medium", False, 1)]
runs += [("png", size, True, 1) for size in ("small", "medium", "large")]
if SCALED:
    runs += [("png", size, True, k) for size in ("small", "medium", "large") for k in (2, 3)]
runs += [("svg", size, True, 1) for size in ("small", "medium", "large")]
for n, (fmt, size, cold, scale) in enumerate(runs):
    t = sorted(per_image(fmt, size, cold=cold, scale=scale, start_at=100_000 * (n + 1)))
    label = f"{fmt} {size} {scale}x {'cold' if cold else 'repeat'}"
    print(f"{label:<24}{statistics.median(t):>10.2f}{t[int(len(t) * 0.9)]:>9.2f}")
