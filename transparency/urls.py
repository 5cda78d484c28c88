"""The transparency log's public routes, under ``/issuers/<slug>/log/`` (the log's prefix:
``<prefix>/checkpoint`` and ``<prefix>/tile/...`` as tlog-tiles names them)."""

from django.urls import re_path

from config.ratelimit import rate_limited
from seals.models import SEAL_ID_PATTERN
from transparency import views
from transparency.views import TILE_INDEX

_LOG = r"^issuers/(?P<slug>[a-z0-9-]+)/log/"
_WIDTH = r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"

urlpatterns = [
    re_path(
        rf"^verify/(?P<seal_id>{SEAL_ID_PATTERN})/bundle\.json$",
        rate_limited(views.bundle_view),
        name="seal-verify-bundle",
    ),
    re_path(_LOG + r"checkpoint$", rate_limited(views.checkpoint_view), name="log-checkpoint"),
    re_path(_LOG + r"key$", rate_limited(views.key_view), name="log-key"),
    re_path(_LOG + r"proof/inclusion$", rate_limited(views.inclusion_view), name="log-inclusion"),
    re_path(
        _LOG + r"proof/consistency$",
        rate_limited(views.consistency_view),
        name="log-consistency",
    ),
    re_path(
        _LOG + rf"tile/entries/(?P<index>{TILE_INDEX}){_WIDTH}$",
        rate_limited(views.entries_view),
        name="log-entries",
    ),
    re_path(
        _LOG + rf"tile/(?P<level>0|[1-9][0-9]?)/(?P<index>{TILE_INDEX}){_WIDTH}$",
        rate_limited(views.tile_view),
        name="log-tile",
    ),
]
