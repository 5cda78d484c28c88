"""OpenAPI documentation of seals.api.stats (summaries, descriptions, examples), applied to
each view class in one line."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema

from seals.api.serializers import (
    IssuerStatsQuerySerializer,
    IssuerStatsSerializer,
    SealStatsSerializer,
    StatsQuerySerializer,
)


def _example_days() -> list[dict[str, Any]]:
    counts = [(412, 37, 0), (388, 29, 2), (97, 8, 0)]
    first = date(2026, 3, 1)
    return [
        {
            "date": (first + timedelta(days=n)).isoformat(),
            "impressions": i,
            "verifications": v,
            "misuse_hits": m,
        }
        for n, (i, v, m) in enumerate(counts)
    ]


_TOTALS = {"impressions": 897, "verifications": 74, "misuse_hits": 2}
SEAL_STATS_EXAMPLE = {
    "seal": "q3JxW8yWcV9kq0m3Yb1fYg",
    "programme": "master-baker",
    "counted": True,
    "from": "2026-03-01",
    "to": "2026-03-03",
    "totals": _TOTALS,
    "days": _example_days(),
}
ISSUER_STATS_EXAMPLE = {
    "programme": None,
    "from": "2026-03-01",
    "to": "2026-03-03",
    "totals": {k: v * 40 for k, v in _TOTALS.items()},
    "days": [
        {k: (v * 40 if k != "date" else v) for k, v in day.items()} for day in _example_days()
    ],
}


seal_stats = extend_schema(
    summary="A seal's statistics per day",
    description="Image impressions, verification page views and misuse hits of one seal, one "
    "row per day (UTC) from `from` to `to`, with their totals. Counters are written every "
    "minute, so today's row grows during the day. Days older than the daily retention period "
    "(13 months) are summed per month and no longer listed here.",
    tags=["statistics"],
    parameters=[StatsQuerySerializer],
    responses={200: SealStatsSerializer},
    examples=[OpenApiExample("Three days", value=SEAL_STATS_EXAMPLE, response_only=True)],
)


issuer_stats = extend_schema(
    summary="The issuer's statistics per day",
    description="The same counters as `GET /api/v1/seals/{seal_id}/stats`, summed over every "
    "seal of the issuer (or of one `programme`), one row per day (UTC).",
    tags=["statistics"],
    parameters=[IssuerStatsQuerySerializer],
    responses={200: IssuerStatsSerializer},
    examples=[OpenApiExample("Three days", value=ISSUER_STATS_EXAMPLE, response_only=True)],
)
