"""Public routes for keys, issuer profiles, credentials and status lists (DESIGN §4)."""

from django.urls import path, re_path

from config.ratelimit import rate_limited
from seals import credential_views as views

urlpatterns = [
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)$", rate_limited(views.issuer_profile), name="issuer-profile"
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/jwks\.json$",
        rate_limited(views.issuer_jwks_view),
        name="issuer-jwks",
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/did\.json$",
        rate_limited(views.issuer_did_view),
        name="issuer-did",
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/programmes/(?P<programme>[-a-zA-Z0-9_]+)$",
        rate_limited(views.achievement_view),
        name="achievement",
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/keys/(?P<key_id>[A-Za-z0-9_-]+)$",
        rate_limited(views.issuer_key_view),
        name="issuer-key",
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/status/(?P<purpose>[a-z]+)$",
        rate_limited(views.status_list_view),
        name="status-list",
    ),
    path(
        "issuers/<slug:slug>/status/<str:purpose>/<int:number>",
        rate_limited(views.status_list_view),
        name="status-list-numbered",
    ),
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/status/(?P<purpose>[a-z]+)\.json$",
        rate_limited(views.status_list_data_integrity_view),
        name="status-list-di",
    ),
    path(
        "issuers/<slug:slug>/status/<str:purpose>/<int:number>.json",
        rate_limited(views.status_list_data_integrity_view),
        name="status-list-numbered-di",
    ),
    re_path(
        r"^s/(?P<seal_id>[A-Za-z0-9_-]+)/credential\.json$",
        rate_limited(views.credential_data_integrity_view),
        name="seal-credential-di",
    ),
    re_path(
        r"^s/(?P<seal_id>[A-Za-z0-9_-]+)/credential\.jwt$",
        rate_limited(views.credential_view),
        name="seal-credential",
    ),
    path("verify/credential", views.verify_credential_view, name="verify-credential"),
]
