"""Issuer REST API routes under /api/v1/ (DESIGN §5): the one place that gathers every app's
endpoints, so it sits with the entry points above all layers.

Paths have no trailing slash (``/api/v1/members/42``). Add a resource by registering a viewset
on ``router`` or appending a ``path`` to ``urlpatterns``; views build on issuers.api.base.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from effects import api as webhooks
from privacy import api as privacy
from seals.api import imports, keys, stats, views

router = SimpleRouter(trailing_slash=False)
router.register("programmes", views.ProgrammeViewSet, basename="api-programme")
router.register("members", views.MemberViewSet, basename="api-member")
router.register("seals", views.SealViewSet, basename="api-seal")
router.register("imports", imports.ImportViewSet, basename="api-import")
router.register("data-requests", privacy.DataRequestViewSet, basename="api-data-request")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="api-webhook")
router.register("notices", webhooks.NoticeViewSet, basename="api-notice")
router.register("keys", keys.SigningKeyViewSet, basename="api-key")

urlpatterns: list = [
    path("issuer", views.IssuerView.as_view(), name="api-issuer"),
    path("issuer/logo", views.IssuerLogoView.as_view(), name="api-issuer-logo"),
    path("members/<int:pk>/export", privacy.MemberExportView.as_view(), name="api-member-export"),
    path("members/<int:pk>/erase", privacy.MemberEraseView.as_view(), name="api-member-erase"),
    path(
        "members/<int:pk>/restrict",
        privacy.MemberRestrictView.as_view(),
        name="api-member-restrict",
    ),
    path("members/<int:pk>/object", privacy.MemberObjectView.as_view(), name="api-member-object"),
    path("keys/rotate", keys.SigningKeyRotateView.as_view(), name="api-key-rotate"),
    path("keys/<str:key_id>/revoke", keys.SigningKeyRevokeView.as_view(), name="api-key-revoke"),
    path(
        "seals/<str:seal_id>/credential",
        keys.SealCredentialView.as_view(),
        name="api-seal-credential",
    ),
    path("seals/<str:seal_id>/stats", stats.SealStatsView.as_view(), name="api-seal-stats"),
    path("stats", stats.IssuerStatsView.as_view(), name="api-stats"),
    *router.urls,
]
