""" "Check a website" (DESIGN §7): ``GET /check?domain=<host>``.

Which issuers vouch for a website right now: every member, of any issuer, whose domains cover
the host (subdomains count: issuers.domains.host_matches), with its newest seal in each
programme and whether that seal is valid now (effective status, seals.status). HTML for people,
JSON with ``?format=json`` or ``Accept: application/json``. No account, no cookie; the host asked
about is never stored. Restricted and erased members are left out, as from every public list.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from config.errors import InvalidInputError
from seals import i18n, selectors
from seals.register import (
    answer_format,
    first_change,
    iso,
    json_answer,
    member_document,
    open_data,
    parse_host,
    seal_document,
    search_page,
)
from seals.render.layout import status_words


def _document(host: str, answers: list[selectors.HostAnswer], now) -> dict:
    return {
        "domain": host,
        "checked_at": iso(now),
        "valid": any(a.valid for a in answers),
        "results": [
            {
                "issuer": {
                    "slug": a.issuer.slug,
                    "name": a.issuer.name,
                    "register": reverse("issuer-register", kwargs={"slug": a.issuer.slug}),
                },
                "member": member_document(a.member),
                "valid": a.valid,
                "seals": [seal_document(s) for s in a.seals],
            }
            for a in answers
        ],
    }


def _answer(request: HttpRequest, fmt: str, status: int, context: dict, data: dict, now):
    if fmt == "json":
        response = json_answer(data, status)
        seals = [s for a in context.get("answers", []) for s in a.seals]
        response = open_data(response, now=now, next_change=first_change(seals))
    else:
        response = search_page(request, "seals/check.html", context, status=status)
    if not request.GET.get("format"):
        patch_vary_headers(response, ("Accept",))
    return response


@require_safe
@i18n.speaks_page_language
def check_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    try:
        fmt = answer_format(request, accept_json=True)
    except InvalidInputError as error:
        data = {"error": "invalid_input", "field": error.field, "detail": error.detail}
        return _answer(request, "json", 400, {}, data, now)
    raw = request.GET.get("domain", "")
    context: dict = {"domain": raw[:253]}
    if not raw.strip():
        detail = _("Enter the address of a website to see which seals are valid for it.")
        data = {"error": "missing_domain", "field": "domain", "detail": detail}
        return _answer(request, fmt, 400 if fmt == "json" else 200, context, data, now)
    try:
        host = parse_host(raw[:300])
    except InvalidInputError as error:
        data = {"error": "invalid_domain", "field": "domain", "detail": error.detail}
        return _answer(request, fmt, 400, {**context, "error": error.detail}, data, now)
    answers = selectors.seals_for_host(host=host, now=now)
    words = status_words()
    context.update(
        host=host,
        answers=answers,
        rows=[{"answer": a, "seals": [(s, words[s.status]) for s in a.seals]} for a in answers],
        valid=any(a.valid for a in answers),
    )
    return _answer(request, fmt, 200, context, _document(host, answers, now), now)
