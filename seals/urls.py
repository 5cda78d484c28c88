"""Public routes (DESIGN §4): no authentication, no cookies.

The seal id converter accepts only the shape of a public id (22 URL-safe base64 characters,
``seals.models.SEAL_ID_PATTERN``), so a malformed id never reaches a query: on the image routes
it gets the neutral "seal not found" image (a truncated embed shows no broken image), elsewhere
a plain 404.
"""

from django.urls import path, re_path, register_converter

from config.ratelimit import rate_limited
from seals import credential_views, public_pages, public_views
from seals.certificate import certificate_pdf
from seals.models import SEAL_ID_PATTERN


class SealIdConverter:
    regex = SEAL_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SealIdConverter, "seal")

# Per-network limits on every public page (config/ratelimit.py); the images are left to the edge.
urlpatterns: list = [
    path("s/<seal:seal_id>.svg", public_views.seal_svg, name="seal-svg"),
    path("s/<seal:seal_id>.png", public_views.seal_png, name="seal-png"),
    # Baked badges (the image plus its credential) before the catch-all below claims them.
    path(
        "s/<seal:seal_id>/badge.png",
        rate_limited(credential_views.badge_png_view),
        name="seal-badge-png",
    ),
    path(
        "s/<seal:seal_id>/badge.svg",
        rate_limited(credential_views.badge_svg_view),
        name="seal-badge-svg",
    ),
    # After the two above: any other /s/….svg|png is an id of the wrong shape.
    re_path(r"^s/.*\.(?P<fmt>svg|png)\Z", public_views.seal_image_malformed),
    path(
        "verify/<seal:seal_id>.json",
        rate_limited(public_views.verify_json),
        name="seal-verify-json",
    ),
    path("verify/<seal:seal_id>", rate_limited(public_views.verify_page), name="seal-verify"),
    path(
        "verify/<seal:seal_id>/report",
        rate_limited(public_pages.misuse_report),
        name="seal-misuse-report",
    ),
    path("verify/how", rate_limited(public_pages.verify_how), name="verify-how"),
    path("embed/<seal:seal_id>", rate_limited(public_views.embed), name="seal-embed"),
    path(
        "s/<seal:seal_id>/certificate.pdf",
        rate_limited(certificate_pdf, scope="certificate"),
        name="seal-certificate",
    ),
]
