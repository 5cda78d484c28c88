"""The public register of an issuer (DESIGN §7): ``GET /issuers/<slug>/register``.

Anyone may search it, with no account and no cookie: by name (legal or display) or membership
number (``q``), by website (``domain``: the member's domains or a parent of the host) and by
country. HTML for people, ``?format=json`` and ``?format=csv`` for open data, all three paged by
an opaque keyset cursor. Each row is a member with its newest seal in each programme and that
seal's effective status *now* (seals.status), so an expiry shows without any worker having run.

Who is listed: seals.selectors.register_listed_q (the member's own choice, else the issuer's
default; never a restricted or erased member). What is shown: the corporate fields of
``Member.PUBLIC_FIELDS`` and the membership number, never a contact field.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render as render_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from config.db_router import replica_reads
from config.errors import InvalidInputError
from config.spreadsheet import csv_cell
from config.tenancy import issuer_scope
from issuers.domains import normalise_domain
from issuers.models import Issuer
from seals import i18n, public_views, selectors
from seals.render.layout import status_words

FORMATS = ("html", "json", "csv")
MAX_QUERY = 100
# The verification page's policy, except that the search form may submit to this site: these
# pages have a form, the verification page has none.
SEARCH_CSP = public_views.CSP_HEADER.replace("form-action 'none'", "form-action 'self'")
CSV_COLUMNS = (
    "external_ref",
    "display_name",
    "legal_name",
    "country",
    "domains",
    "programme",
    "programme_name",
    "status",
    "valid",
    "seal_id",
    "verification_page",
)


# --- shared by the register and "check a website" -------------------------------------------
def answer_format(request: HttpRequest, *, accept_json: bool = False) -> str:
    """``?format=``, else (where allowed) JSON when the client asks only for JSON."""
    fmt = request.GET.get("format", "")
    if fmt:
        if fmt not in FORMATS:
            raise InvalidInputError("format", f"Unknown format; give one of {', '.join(FORMATS)}.")
        return fmt
    accept = request.META.get("HTTP_ACCEPT", "")
    if accept_json and "application/json" in accept and "text/html" not in accept:
        return "json"
    return "html"


def search_page(request: HttpRequest, template: str, context: dict, status: int = 200):
    """A server-rendered page in the look of the verification page, with its headers."""
    css = public_views._STYLE[0]
    response = render_template(request, template, {**context, "css": css}, status=status)
    response["Content-Security-Policy"] = SEARCH_CSP
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    # The answer depends on the time (effective status) and the language: no shared caching.
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def open_data(response: HttpResponse, *, now: datetime, next_change: datetime | None):
    """Headers of a JSON or CSV answer: cacheable by anyone, never past a scheduled change."""
    response["Cache-Control"] = (
        "no-store" if response.status_code >= 400 else public_views.cache_control(now, next_change)
    )
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def json_answer(data: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(body, status=status, content_type="application/json")


def iso(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def verification_url(public_id: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{public_id}"


def seal_document(seal: selectors.ShownSeal) -> dict:
    return {
        "seal_id": seal.public_id,
        "programme": {"slug": seal.programme_slug, "name": seal.programme_name},
        "status": seal.status,
        "valid": seal.valid,
        "verification_page": verification_url(seal.public_id),
    }


def member_document(member) -> dict:
    return {
        "external_ref": member.external_ref,
        "display_name": member.display_name,
        "legal_name": member.legal_name,
        "domains": member.domains,
        "country": member.country or None,
    }


def first_change(seals: list[selectors.ShownSeal]) -> datetime | None:
    """The first moment a shown status changes by itself: no cache may keep the answer past it."""
    return min((s.next_change for s in seals if s.next_change is not None), default=None)


# --- the register ---------------------------------------------------------------------------
def encode_cursor(cursor: selectors.RegisterCursor) -> str:
    raw = json.dumps([cursor.display_name, cursor.id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> selectors.RegisterCursor:
    """The cursor a previous page handed out; InvalidInputError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        name, pk = json.loads(raw)
        if isinstance(name, str) and type(pk) is int and 0 < pk < 2**63:
            return selectors.RegisterCursor(name, pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    raise InvalidInputError("cursor", "Invalid cursor: use the 'next' link of a previous page.")


def _limit(request: HttpRequest) -> int:
    value = request.GET.get("limit", "")
    if not value:
        return selectors.REGISTER_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= selectors.REGISTER_MAX_PAGE_SIZE:
        raise InvalidInputError(
            "limit", f"limit is a whole number from 1 to {selectors.REGISTER_MAX_PAGE_SIZE}."
        )
    return int(value)


def _text(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name, "").strip()
    if len(value) > MAX_QUERY or any(ord(ch) < 32 for ch in value):
        raise InvalidInputError(
            name,
            _("A search term is at most %(count)s characters, without control characters.")
            % {"count": MAX_QUERY},
        )
    return value


def parse_host(value: str) -> str:
    """A website as people write it (``Shop.Example``, ``https://shop.example/about``) as a
    normalised hostname; InvalidInputError naming the value when it is none."""
    text = value.strip()
    if "://" in text:  # a pasted address: its host is the question
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1]
    if text.count(":") == 1:
        text = text.split(":", 1)[0]  # a port
    try:
        return normalise_domain(text)
    except ValidationError as exc:
        raise InvalidInputError(
            "domain",
            _("“%(value)s” is not a website address. Enter a host name such as shop.example.com.")
            % {"value": value.strip()[:100]},
        ) from exc


def _filters(request: HttpRequest) -> selectors.RegisterFilters:
    domain = _text(request, "domain")
    return selectors.RegisterFilters(
        q=_text(request, "q"),
        domain=parse_host(domain) if domain else "",
        country=selectors.list_country(_text(request, "country")),
    )


def _page_url(slug: str, request: HttpRequest, cursor: str, fmt: str | None = None) -> str:
    params = {k: v for k, v in request.GET.items() if k in ("q", "domain", "country", "limit")}
    params = {k: v for k, v in params.items() if v}
    if fmt:
        params["format"] = fmt
    elif request.GET.get("format"):
        params["format"] = request.GET["format"]
    if request.GET.get("lang"):
        params["lang"] = request.GET["lang"]
    if cursor:
        params["cursor"] = cursor
    base = reverse("issuer-register", kwargs={"slug": slug})
    return base + ("?" + urlencode(params) if params else "")


def _csv(page: selectors.RegisterPage) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for row in page.rows:
        m = row.member
        for seal in row.seals:
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        m.external_ref,
                        m.display_name,
                        m.legal_name,
                        m.country,
                        " ".join(m.domains),
                        seal.programme_slug,
                        seal.programme_name,
                        seal.status,
                        "true" if seal.valid else "false",
                        seal.public_id,
                        verification_url(seal.public_id),
                    )
                ]
            )
    return out.getvalue()


def _error(request: HttpRequest, fmt: str, error: InvalidInputError, context: dict):
    if fmt == "html":
        return search_page(
            request, "seals/register.html", {**context, "error": error.detail}, status=400
        )
    body = {"error": "invalid_input", "field": error.field, "detail": error.detail}
    if fmt == "csv":
        response = HttpResponse(error.detail, status=400, content_type="text/plain; charset=utf-8")
    else:
        response = json_answer(body, 400)
    return open_data(response, now=timezone.now(), next_change=None)


@require_safe
@i18n.speaks_page_language
def register_view(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = Issuer.objects.filter(slug=slug).first()
    if issuer is None:
        raise Http404("No such issuer.")
    context = {
        "issuer": issuer,
        "q": request.GET.get("q", "")[:MAX_QUERY],
        "domain": request.GET.get("domain", "")[:253],
        "country": request.GET.get("country", "")[:2],
    }
    try:
        fmt = answer_format(request)
    except InvalidInputError as error:
        return _error(request, "json", error, context)
    try:
        filters = _filters(request)
        limit = _limit(request)
        cursor = request.GET.get("cursor", "")
        after = decode_cursor(cursor) if cursor else None
    except InvalidInputError as error:
        return _error(request, fmt, error, context)
    now = timezone.now()
    # The search is lag-tolerant (a member added a moment ago may be missing for that long);
    # the statuses it shows come from the primary (selectors._with_public_seals).
    with issuer_scope(issuer), replica_reads():
        page = selectors.register_page(
            issuer=issuer, filters=filters, after=after, limit=limit, now=now
        )
    next_url = _page_url(slug, request, encode_cursor(page.next)) if page.next else None
    if fmt == "html":
        words = status_words()
        rows = [
            {"member": r.member, "seals": [(s, words[s.status]) for s in r.seals]}
            for r in page.rows
        ]
        return search_page(
            request,
            "seals/register.html",
            {
                **context,
                "rows": rows,
                "searched": any((filters.q, filters.domain, filters.country)),
                "next_url": next_url,
                "first_url": _page_url(slug, request, "") if after else None,
                "json_url": _page_url(slug, request, cursor, "json"),
                "csv_url": _page_url(slug, request, cursor, "csv"),
                "check_url": reverse("check"),
            },
        )
    next_change = first_change([s for r in page.rows for s in r.seals])
    if fmt == "csv":
        response = HttpResponse(_csv(page), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{issuer.slug}-register.csv"'
        if next_url:
            response["Link"] = f'<{settings.PUBLIC_BASE_URL}{next_url}>; rel="next"'
    else:
        response = json_answer(
            {
                "issuer": {"slug": issuer.slug, "name": issuer.name},
                "checked_at": iso(now),
                "next": f"{settings.PUBLIC_BASE_URL}{next_url}" if next_url else None,
                "results": [
                    {**member_document(r.member), "seals": [seal_document(s) for s in r.seals]}
                    for r in page.rows
                ],
            }
        )
    return open_data(response, now=now, next_change=next_change)
