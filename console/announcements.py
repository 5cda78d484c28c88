"""Announcements: managers write one (subject, plain text, optional programme), see it as a
member will (HTML and text), then send it; everyone on the staff sees each one's counts. The
rules are announcements.services'; a viewer's POST is refused by ``staff_view``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from announcements import services
from announcements.mail import announcement_render
from announcements.models import Announcement, Recipient
from announcements.selectors import announcement_counts, announcements_recent, sample_member
from config.errors import DomainError
from config.security_headers import DEFAULT_CSP
from console.access import StaffRequest, actor_of, staff_view
from console.forms import add_service_error
from effects.mail import MAIL_CSS_HASH
from issuers.models import Programme, StaffRole

# The announcement page frames its own preview (same origin, sandboxed); nothing else changes.
PAGE_CSP = DEFAULT_CSP + "; frame-src 'self'"


class AnnouncementForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=services.SUBJECT_MAX)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=services.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy("Plain text; a blank line starts a new paragraph."),
    )
    programme = forms.ModelChoiceField(
        label=gettext_lazy("Programme"),
        queryset=Programme.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every member"),
        help_text=gettext_lazy("Only members holding a seal of this programme."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built per request, inside the issuer's scope: only this issuer's programmes.
        self.fields["programme"].queryset = Programme.objects.order_by("name")  # type: ignore[attr-defined]


def _initial(announcement: Announcement) -> dict:
    return {
        "subject": announcement.subject,
        "body": announcement.body,
        "programme": announcement.programme_id,
    }


@staff_view()
def announcement_list(request: StaffRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = services.announcement_create(
                    issuer=request.issuer, actor=actor_of(request), **form.cleaned_data
                )
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Draft saved. Check the preview, then send it."))
                return redirect("console:announcement", pk=created.pk)
    return render(
        request,
        "console/announcements.html",
        {"announcements": announcements_recent(), "form": form, "can_write": _can_write(request)},
        status=status,
    )


@staff_view()
def announcement_detail(request: StaffRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(Announcement.objects.select_related("programme"), pk=pk)
    draft = announcement.status == Announcement.Status.DRAFT
    form = AnnouncementForm(request.POST or None, initial=_initial(announcement))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.announcement_update(
                    announcement=announcement, actor=actor_of(request), **form.cleaned_data
                )
            except DomainError as exc:
                add_service_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("Draft saved."))
                return redirect("console:announcement", pk=announcement.pk)
    lang = _preview_language(request)
    member = sample_member(announcement)
    response = render(
        request,
        "console/announcement.html",
        {
            "announcement": announcement,
            "draft": draft,
            "form": form if draft else None,
            "counts": announcement_counts(announcement),
            "reasons": dict(Recipient.Reason.choices),
            "preview_text": announcement_render(announcement, member, lang=lang).text,
            "preview_lang": lang,
            "sample": member,
            "languages": settings.LANGUAGES,
            "can_write": _can_write(request),
        },
        status=status,
    )
    response["Content-Security-Policy"] = PAGE_CSP
    return response


def _can_write(request: StaffRequest) -> bool:
    return request.staff.can(StaffRole.MANAGER)


def _preview_language(request: StaffRequest) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    lang = request.GET.get("lang", "")
    return lang if lang in codes else translation.get_language() or settings.LANGUAGE_CODE


@staff_view()
@xframe_options_sameorigin
def announcement_preview(request: StaffRequest, pk: int) -> HttpResponse:
    """The HTML part, exactly as mailed to the sample member, for the page's sandboxed frame."""
    announcement = get_object_or_404(Announcement, pk=pk)
    member = sample_member(announcement)
    html = announcement_render(announcement, member, lang=_preview_language(request)).html
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # The mail's one <style> block by its hash, the seal image from the public host; no script.
    response["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'sha256-{MAIL_CSS_HASH}'; "
        f"img-src 'self' {settings.PUBLIC_BASE_URL}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'; sandbox"
    )
    return response


@staff_view()
@require_POST
def announcement_send(request: StaffRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(Announcement, pk=pk)
    try:
        services.announcement_send(
            announcement=announcement, actor=actor_of(request), now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Sending. The counts below follow as the mails go out."))
    return redirect("console:announcement", pk=announcement.pk)
