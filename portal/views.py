"""The member portal's pages: thin views over the services the API and the console call."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.errors import DomainError
from config.ratelimit import retry_after
from issuers.models import DataRequest, Member
from portal import access
from portal.access import MemberRequest, member_view
from portal.forms import CorrectionForm, DataRequestForm, DetailsForm, EmailForm, PreferencesForm
from portal.services import (
    LINK_LIFETIME,
    member_actor,
    members_of_contact,
    sign_in_link_redeem,
    sign_in_link_request,
)
from privacy.export_csv import export_zip
from privacy.services import data_request_create, member_export
from privacy.unsubscribe import unsubscribe_url
from seals import links
from seals.misuse_hosts import seal_misuse_hosts
from seals.models import Seal, SealEvent
from seals.registry import member_update
from seals.selectors import seal_stats_daily, stats_window
from seals.status import effective_status


def _posted(request: HttpRequest) -> QueryDict | None:
    # Not `request.POST or None`: an unticked checkbox sends an empty form, still a submission.
    return request.POST if request.method == "POST" else None


# --- signing in ---------------------------------------------------------------------------------


@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    form = EmailForm(_posted(request))
    if request.method == "POST":
        # Per client network, before the form is read: a flood costs one cache increment.
        wait = retry_after(request, scope="portal-sign-in")
        if wait is not None:
            # A person reads this, not a program: the form again, with the wait in words.
            minutes = max(1, -(-wait // 60))
            form.is_valid()  # add_error needs a cleaned form; the address is not acted on
            form.add_error(
                None,
                ngettext(
                    "Too many sign-in requests from your network. Try again in %(n)d minute.",
                    "Too many sign-in requests from your network. Try again in %(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
            )
            response = render(request, "portal/sign_in.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            sign_in_link_request(email=form.cleaned_data["email"])
            # The same page whether the address is on file or not (and whatever the limit per
            # address decided), so the form cannot tell anyone who is a member's contact.
            minutes = int(LINK_LIFETIME.total_seconds() // 60)
            return render(request, "portal/sign_in_sent.html", {"minutes": minutes})
    return render(request, "portal/sign_in.html", {"form": form})


@never_cache
def link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST uses the link: mail scanners that fetch every link in a message
    must not spend it for its owner."""
    if request.method != "POST":
        return render(request, "portal/link.html")
    signed_in = sign_in_link_redeem(token=token)
    if signed_in is None:
        return render(request, "portal/link_invalid.html", status=400)
    only = signed_in.members[0] if len(signed_in.members) == 1 else None
    access.sign_in(request, email_hash=signed_in.email_hash, member=only)
    return redirect("portal:home" if only else "portal:choose")


@never_cache
def choose(request: HttpRequest) -> HttpResponse:
    """A contact of several members (of one issuer or several) acts for one at a time."""
    email_hash = access.contact_of(request)
    if not email_hash:
        return redirect("portal:sign-in")
    members = members_of_contact(email_hash=email_hash)
    if request.method == "POST":
        chosen = next((m for m in members if str(m.pk) == request.POST.get("member")), None)
        if chosen is None:
            raise Http404("Not one of your members.")
        access.choose(request, chosen)
        return redirect("portal:home")
    return render(request, "portal/choose.html", {"members": members})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    access.sign_out(request)
    return redirect("portal:sign-in")


def portal_root(request: HttpRequest) -> HttpResponse:
    """``/portal/``, the address members are given, sends them to the portal's real path."""
    return redirect("portal:home")


# --- seals --------------------------------------------------------------------------------------


@never_cache
@member_view
def home(request: MemberRequest) -> HttpResponse:
    now = timezone.now()
    seals = [
        (seal, effective_status(seal, now), links.image_url(seal))
        for seal in request.member.seals.select_related("programme").order_by("-created_at")
    ]
    several = len(members_of_contact(email_hash=access.contact_of(request))) > 1
    return render(request, "portal/home.html", {"seals": seals, "several": several})


@never_cache
@member_view
def seal_detail(request: MemberRequest, seal_id: str) -> HttpResponse:
    # Another member's seal (of this issuer or another) is not found, never forbidden.
    seal = get_object_or_404(
        Seal.objects.select_related("programme", "issuer", "member"),
        public_id=seal_id,
        member=request.member,
    )
    now = timezone.now()
    date_from, date_to = stats_window(date_from=None, date_to=None, today=now.date())
    base = settings.PUBLIC_BASE_URL
    return render(
        request,
        "portal/seal.html",
        {
            "seal": seal,
            "status": effective_status(seal, now),
            "image_url": links.image_url(seal),
            "verify_url": links.verify_url(seal),
            "snippet": links.embed_snippet(seal),
            "certificate_url": base + reverse("seal-certificate", args=[seal.public_id]),
            "badge_url": base + reverse("seal-badge-png", args=[seal.public_id]),
            "check_links": links.check_urls(request.member.domains),
            "history": SealEvent.objects.filter(seal=seal).order_by("-seq")[:100],
            "stats": seal_stats_daily(seal=seal, date_from=date_from, date_to=date_to),
            "misuse_hosts": seal_misuse_hosts(seal=seal, date_from=date_from, date_to=date_to),
        },
    )


# --- corporate data -----------------------------------------------------------------------------


@never_cache
@member_view
def details(request: MemberRequest) -> HttpResponse:
    member = request.member
    form = DetailsForm(_posted(request), initial=_details_initial(member))
    if request.method == "POST" and form.is_valid():
        try:
            member = member_update(member=member, actor=member_actor(member), **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None), str(exc))
        else:
            # A new contact address carries the access over: the person who changed it stays
            # signed in, and from now on links go to the new address only.
            access.sign_in(request, email_hash=member.contact_email_hash, member=member)
            return redirect("portal:details")
    return render(
        request,
        "portal/details.html",
        {"form": form, "correction": CorrectionForm(), "member": member},
    )


def _details_initial(member: Member) -> dict[str, str]:
    return {
        "display_name": member.display_name,
        "domains": "\n".join(member.domains),
        "contact_name": member.contact_name,
        "contact_email": member.contact_email,
        "contact_phone": member.contact_phone,
    }


def _form_errors(form: DetailsForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_POST
@member_view
def correction(request: MemberRequest) -> HttpResponse:
    """What only the issuer may change (legal name, country): a rectification request."""
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "portal/details.html",
            {
                "form": DetailsForm(initial=_details_initial(request.member)),
                "correction": form,
                "member": request.member,
            },
            status=400,
        )
    data_request = _file(request, DataRequest.Kind.RECTIFICATION, form.cleaned_data["fields_wrong"])
    return redirect(reverse("portal:data-requests") + f"#request-{data_request.pk}")


# --- communication preferences ------------------------------------------------------------------


@never_cache
@member_view
def preferences(request: MemberRequest) -> HttpResponse:
    member = request.member
    # Shown as it is in effect: the member's own choice, else the issuer's default.
    listed = (
        member.register_listed
        if member.register_listed is not None
        else request.issuer.register_lists_members
    )
    form = PreferencesForm(
        _posted(request),
        initial={
            "announcements": not member.marketing_opt_out,
            "register_listed": listed,
            "language": member.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        changes: dict[str, object] = {
            "marketing_opt_out": not form.cleaned_data["announcements"],
            "language": form.cleaned_data["language"] or member.language,
        }
        # Saved as the member's own choice only when it differs from what is in effect: an
        # untouched box keeps following the issuer's default.
        if form.cleaned_data["register_listed"] != listed:
            changes["register_listed"] = form.cleaned_data["register_listed"]
        member_update(member=member, actor=member_actor(member), **changes)
        messages.success(request, _("Preferences saved."))
        return redirect("portal:preferences")
    return render(
        request,
        "portal/preferences.html",
        {"form": form, "member": member, "unsubscribe_url": unsubscribe_url(member)},
    )


# --- data requests ------------------------------------------------------------------------------


def _file(
    request: MemberRequest, kind: str, fields: list[str] | tuple[str, ...] = ()
) -> DataRequest:
    member = request.member
    return data_request_create(
        issuer=request.issuer,
        member=member,
        kind=kind,
        actor=member_actor(member),
        requester_name=member.contact_name,
        requester_email=member.contact_email,
        fields=fields,
    )


@never_cache
@member_view
def data_requests(request: MemberRequest) -> HttpResponse:
    form = DataRequestForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data_request = _file(request, form.cleaned_data["kind"])
        return redirect(reverse("portal:data-requests") + f"#request-{data_request.pk}")
    requests = DataRequest.objects.filter(member=request.member).order_by("-received_at", "-pk")
    return render(request, "portal/data_requests.html", {"form": form, "requests": requests})


@never_cache
@member_view
def export(request: MemberRequest) -> HttpResponse:
    """Everything held about the member, as JSON (access and portability, arts. 15 and 20)."""
    document = member_export(request.member)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(request)}.json"'
    return response


@never_cache
@member_view
def export_csv(request: MemberRequest) -> HttpResponse:
    """The same export as CSV files, one per table, in a ZIP (portability, art. 20)."""
    response = HttpResponse(
        export_zip(member_export(request.member)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(request)}.zip"'
    return response


def _export_name(request: MemberRequest) -> str:
    # The issuer's reference may hold anything; a header may not.
    return "member-" + re.sub(r"[^A-Za-z0-9._-]", "_", request.member.external_ref)
