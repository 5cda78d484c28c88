"""Statistics: impressions, verifications and misuse hits per day, per seal or issuer-wide.

Thin adapters around seals.selectors (stats_window, seal_stats_daily, issuer_stats_daily). The
counters come from DailyStat, filled every minute by the stats flush (seals.stats), which never
writes the days on which a member was restricted or erased (docs/privacy.md).
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.response import Response

from config.db_router import replica_reads
from issuers.api.base import IssuerAPIView, IssuerRequest
from issuers.models import Programme
from seals import selectors
from seals.api import stats_docs as docs
from seals.api.serializers import (
    IssuerStatsQuerySerializer,
    IssuerStatsSerializer,
    SealStatsSerializer,
    StatsQuerySerializer,
)
from seals.models import Seal


@docs.seal_stats
class SealStatsView(IssuerAPIView):
    queryset = Seal.objects.none()
    serializer_class = SealStatsSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"

    def get_queryset(self) -> QuerySet[Seal]:
        return super().get_queryset().select_related("programme", "member")

    def get(self, request: IssuerRequest, seal_id: str) -> Response:
        seal = self.get_object()
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        with replica_reads():  # counts flushed a minute late may show a moment later still
            series = selectors.seal_stats_daily(
                seal=seal,
                date_from=query.validated_data["from"],
                date_to=query.validated_data["to"],
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


@docs.issuer_stats
class IssuerStatsView(IssuerAPIView):
    serializer_class = IssuerStatsSerializer

    def get(self, request: IssuerRequest) -> Response:
        query = IssuerStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        programme = None
        if slug := query.validated_data.get("programme"):
            programme = Programme.objects.filter(slug=slug).first()
            if programme is None:
                raise serializers.ValidationError(
                    {"programme": [f"No programme with slug {slug!r} for this issuer."]}
                )
        with replica_reads():
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
