"""Statistics: impressions, verifications and misuse hits per day, per seal or issuer-wide.

Thin adapters around seals.selectors (stats_window, seal_stats_daily, issuer_stats_daily). The
counters come from DailyStat, filled every minute by the stats flush (seals.stats), which never
writes the days on which a member was restricted or erased (docs/privacy.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from issuers.api.base import IssuerAPIView
from issuers.models import Programme
from seals import selectors
from seals.models import Seal

# --- serializers ------------------------------------------------------------------------------


# ``from`` is a Python keyword: the fields are declared as ``from_``/``to_`` and renamed here,
# so both the query parameters and the answer say ``from`` and ``to``. ``lead`` puts a
# subclass's identifying fields first, where a reader of the JSON looks for them.
class _FromTo:
    lead: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = {
            name.rstrip("_"): field
            for name, field in super().get_fields().items()  # type: ignore[misc]
        }
        return {**{name: fields.pop(name) for name in self.lead}, **fields}


class StatsQuerySerializer(_FromTo, serializers.Serializer):
    """The day range of a statistics request."""

    from_ = serializers.DateField(
        required=False,
        help_text="First day (UTC), YYYY-MM-DD; default: 29 days before `to`.",
    )
    to_ = serializers.DateField(
        required=False,
        help_text=f"Last day (UTC), YYYY-MM-DD, inclusive; default: today. At most "
        f"{selectors.STATS_MAX_DAYS} days from `from` to `to`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A range the rules refuse is the selector's StatsWindowError, a 400 on from or to.
        date_from, date_to = selectors.stats_window(
            date_from=attrs.get("from"), date_to=attrs.get("to"), today=timezone.now().date()
        )
        return {**attrs, "from": date_from, "to": date_to}


class IssuerStatsQuerySerializer(StatsQuerySerializer):
    programme = serializers.SlugField(
        required=False, help_text="Only the seals of this programme (its slug)."
    )


class StatCountsSerializer(serializers.Serializer):
    """Counters of the public views; no IP, cookie or anything else about visitors is kept."""

    impressions = serializers.IntegerField(help_text="Seal image views (SVG and PNG).")
    verifications = serializers.IntegerField(help_text="Verification page views (HTML and JSON).")
    misuse_hits = serializers.IntegerField(
        help_text="Views on behalf of a site that is not one of the member's domains (the "
        "image's `?d=` or the verification page's `Referer`)."
    )


class DayCountsSerializer(_FromTo, StatCountsSerializer):
    """The counters of one day (UTC)."""

    lead = ("date",)

    date = serializers.DateField()


class _SeriesSerializer(_FromTo, serializers.Serializer):
    """Counters per day over a range, with their totals."""

    from_ = serializers.DateField(source="date_from", help_text="First day, UTC.")
    to_ = serializers.DateField(source="date_to", help_text="Last day, UTC, inclusive.")
    totals = StatCountsSerializer(help_text="The sums of `days`.")
    days = DayCountsSerializer(
        many=True,
        help_text="Every day from `from` to `to`, oldest first; days without counts are zeros.",
    )


class SealStatsSerializer(_SeriesSerializer):
    """One seal's counters per day."""

    lead = ("seal", "programme", "counted")

    seal = serializers.CharField(help_text="The seal's public id.")
    programme = serializers.SlugField()
    counted = serializers.BooleanField(
        help_text="False while the member is restricted or erased: nothing is counted for its "
        "seals then (days counted before stay listed)."
    )


class IssuerStatsSerializer(_SeriesSerializer):
    """The issuer's counters per day, summed over its seals."""

    lead = ("programme",)

    programme = serializers.SlugField(
        allow_null=True, help_text="The `programme` filter; null: every seal of the issuer."
    )


# --- examples ---------------------------------------------------------------------------------


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


# --- views ------------------------------------------------------------------------------------


@extend_schema(
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
class SealStatsView(IssuerAPIView):
    queryset = Seal.objects.select_related("programme", "member")
    serializer_class = SealStatsSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"

    def get(self, request: Request, seal_id: str) -> Response:
        seal = self.get_object()
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        series = selectors.seal_stats_daily(
            seal=seal, date_from=query.validated_data["from"], date_to=query.validated_data["to"]
        )
        answer = {
            "seal": seal.public_id,
            "programme": seal.programme.slug,
            "counted": not selectors.seal_ids_excluded_from_stats([seal.public_id]),
            "date_from": series.date_from,
            "date_to": series.date_to,
            "totals": series.totals,
            "days": series.days,
        }
        return Response(SealStatsSerializer(answer).data)


@extend_schema(
    summary="The issuer's statistics per day",
    description="The same counters as `GET /api/v1/seals/{seal_id}/stats`, summed over every "
    "seal of the issuer (or of one `programme`), one row per day (UTC).",
    tags=["statistics"],
    parameters=[IssuerStatsQuerySerializer],
    responses={200: IssuerStatsSerializer},
    examples=[OpenApiExample("Three days", value=ISSUER_STATS_EXAMPLE, response_only=True)],
)
class IssuerStatsView(IssuerAPIView):
    serializer_class = IssuerStatsSerializer

    def get(self, request: Request) -> Response:
        query = IssuerStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        programme = None
        if slug := query.validated_data.get("programme"):
            programme = Programme.objects.filter(issuer=request.issuer, slug=slug).first()
            if programme is None:
                raise serializers.ValidationError(
                    {"programme": [f"No programme with slug {slug!r} for this issuer."]}
                )
        series = selectors.issuer_stats_daily(
            issuer=request.issuer,
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            programme=programme,
        )
        answer = {
            "programme": programme.slug if programme else None,
            "date_from": series.date_from,
            "date_to": series.date_to,
            "totals": series.totals,
            "days": series.days,
        }
        return Response(IssuerStatsSerializer(answer).data)
