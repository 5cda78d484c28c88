"""Server-rendered SVG charts: no script, no library, readable without JavaScript (the numbers
are in a table beside the chart too)."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from seals.selectors import StatsSeries

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 24


def _nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value`` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return max(step * factor, 1)
        step *= 10


def daily_views_svg(series: StatsSeries) -> SafeString:
    """Image impressions and verification views per day, as two lines."""
    days = series.days
    highest = max([d.impressions for d in days] + [d.verifications for d in days] + [1])
    # Four times a nice number, so each of the four grid lines is a whole count.
    top = 4 * _nice_ceiling(-(-highest // 4))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def points(values: list[int]) -> str:
        return " ".join(
            f"{LEFT + i * step:.1f},{TOP + plot_h - v / top * plot_h:.1f}"
            for i, v in enumerate(values)
        )

    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, y, y, LEFT - 6, y + 4, value)
            for value, y in (
                (top // 4 * share, round(TOP + plot_h - share / 4 * plot_h)) for share in range(5)
            )
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}">{}</text>',
        (
            # Today's label sits on the right edge: centred, half of it would fall off the image.
            (
                round(LEFT + i * step),
                HEIGHT - 6,
                "end" if i == len(days) - 1 else "middle",
                date_format(day.date, "j M"),
            )
            for i, day in enumerate(days)
            if (len(days) - 1 - i) % 7 == 0  # weekly back from today, which is always labelled
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title">'
        '<title id="chart-title">{title}</title>{grid}{labels}'
        '<polyline class="impressions" points="{imp}"/>'
        '<polyline class="verifications" points="{ver}"/></svg>',
        w=WIDTH,
        h=HEIGHT,
        title=_("Seal image views and verification views per day, %(start)s to %(end)s")
        % {"start": series.date_from, "end": series.date_to},
        grid=grid,
        labels=labels,
        imp=points([d.impressions for d in days]),
        ver=points([d.verifications for d in days]),
    )
