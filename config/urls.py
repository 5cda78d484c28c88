from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from config.ratelimit import rate_limited
from config.views import ApiDocsView, healthz
from console import landing
from console.urls import outer_urlpatterns as console_outer
from portal import views as portal_views
from privacy import views as privacy_views
from seals.check import check_view
from seals.register import register_view

urlpatterns = [
    # First: the seal image is the hottest route, and every pattern tried before it costs
    # ~1.5 µs a request. Its prefixes (s/, verify/, embed/) overlap nothing below.
    path("", include("seals.urls")),
    path("", landing.landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("privacy", privacy_views.privacy_page, name="privacy"),
    path("unsubscribe/<str:token>", privacy_views.unsubscribe, name="privacy-unsubscribe"),
    # The issuer console, its accounts and the operators' admin share one path, the only one
    # whose responses may set the session and CSRF cookies (SESSION_COOKIE_PATH). The old admin
    # address redirects there.
    path("console/", include(console_outer)),
    # The member portal shares the console's cookie path (docs/portal.md); /portal/, the
    # address members are given, redirects there and sets nothing.
    path("console/portal/", include("portal.urls")),
    path("portal/", portal_views.portal_root, name="portal-root"),
    path("console/", include("console.urls")),
    re_path(
        r"^admin/(?P<rest>.*)$",
        RedirectView.as_view(url="/console/admin/%(rest)s", query_string=True),
    ),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its initialiser as a file, so the docs need no inline script (CSP).
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("seals.credential_urls")),
    path("", include("transparency.urls")),
    # People's public surfaces (DESIGN §7), no account, no cookie.
    re_path(
        r"^issuers/(?P<slug>[a-z0-9-]+)/register$",
        rate_limited(register_view, scope="search"),
        name="issuer-register",
    ),
    path("check", rate_limited(check_view, scope="search"), name="check"),
]

# problem+json on /api/ paths, Django's plain pages elsewhere.
handler400 = "config.problems.handler400"
handler403 = "config.problems.handler403"
handler404 = "config.problems.handler404"
handler500 = "config.problems.handler500"
