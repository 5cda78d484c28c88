"""Programmes: the issuer's seal programmes, listed for everyone, created and edited by managers
through the API's services (issuers.services.programme_create, seals.registry.programme_*).

The seal designer is the same form: its "Preview" button re-shows the page, unsaved, with an
image of the settings as typed (``programme_preview``, a console route that reads them from the
query string and draws them with ``seals.design``: the public image's renderer). No script: the
button is a submit button, the preview an ``<img>``. The issuer's logo, on every seal of every
programme, is uploaded from the same page (``seals.registry.issuer_logo_set``)."""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.errors import DomainError
from console.access import StaffRequest, staff_view
from console.forms import add_service_error
from console.words import translated_choices
from issuers import services
from issuers.logos import LOGO_MAX_BYTES
from issuers.models import Programme
from issuers.text import validate_multi_line_text, validate_single_line_text
from seals import design, links, registry
from seals.models import Seal
from seals.render import FORMATS, SIZES


class ProgrammeForm(forms.Form):
    slug = forms.SlugField(
        label=gettext_lazy("Identifier"),
        max_length=60,
        help_text=gettext_lazy("In URLs and credentials; fixed once created."),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=200, validators=[validate_single_line_text]
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_multi_line_text],
    )
    criteria_url = forms.URLField(
        label=gettext_lazy("Criteria URL"), required=False, assume_scheme="https"
    )
    renewal_url = forms.URLField(
        label=gettext_lazy("Renewal link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy(
            "Where members renew; expiry notices link to it. Empty: they ask members to "
            "contact you."
        ),
    )
    validity_days = forms.IntegerField(
        label=gettext_lazy("Validity (days)"), min_value=1, max_value=3660, initial=365
    )
    notice_days = forms.CharField(
        label=gettext_lazy("Reminders (days before expiry)"),
        initial="30, 7, 1",
        required=False,
        help_text=gettext_lazy("Comma-separated, e.g. 30, 7, 1."),
    )
    theme = forms.ChoiceField(
        label=gettext_lazy("Theme"), choices=translated_choices(Programme.Theme.choices)
    )
    accent_colour = forms.CharField(
        label=gettext_lazy("Accent colour"),
        initial="#1f6feb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", gettext_lazy("A colour like #1f6feb."))],
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    wording = forms.CharField(
        label=gettext_lazy("Wording on the seal"),
        max_length=80,
        initial="Verified member",
        validators=[validate_single_line_text],
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]

    def clean_notice_days(self) -> list[int]:
        raw = [part.strip() for part in self.cleaned_data["notice_days"].split(",")]
        try:
            days = sorted({int(part) for part in raw if part}, reverse=True)
        except ValueError:
            raise forms.ValidationError(_("Whole numbers of days, separated by commas.")) from None
        if len(days) > 10 or any(not 0 <= d <= 365 for d in days):
            raise forms.ValidationError(_("At most ten reminders, each 0 to 365 days."))
        return days

    @staticmethod
    def initial_for(programme: Programme) -> dict:
        return {
            "name": programme.name,
            "description": programme.description,
            "criteria_url": programme.criteria_url,
            "renewal_url": programme.renewal_url,
            "validity_days": programme.validity_days,
            "notice_days": ", ".join(str(d) for d in programme.notice_days),
            "theme": programme.theme,
            "accent_colour": programme.accent_colour,
            "wording": programme.wording,
        }


# The settings a seal's image shows: what the preview's query string carries.
DESIGN_FIELDS = ("name", "theme", "accent_colour", "wording")


class DesignForm(forms.Form):
    """The preview's query: the programme's design fields, validated as ProgrammeForm validates
    them (the same field objects), the programme whose seal to show, the size and language."""

    programme = forms.IntegerField(required=False, min_value=1)
    size = forms.ChoiceField(choices=[(s, s) for s in SIZES], required=False)
    lang = forms.ChoiceField(choices=settings.LANGUAGES, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in DESIGN_FIELDS:
            self.fields[name] = copy.deepcopy(ProgrammeForm.base_fields[name])


def _preview_url(programme: Programme | None, design_values: dict) -> str:
    query = {name: design_values[name] for name in DESIGN_FIELDS}
    if programme is not None:
        query["programme"] = programme.pk
    query["lang"] = translation.get_language() or settings.LANGUAGE_CODE
    return reverse("console:programme-preview", args=["svg"]) + "?" + urlencode(query)


def _wants_preview(request: StaffRequest) -> bool:
    return request.method == "POST" and "preview" in request.POST


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        help_text=gettext_lazy("PNG, JPEG or WebP, at most 2 MB; shown on every seal."),
    )


@staff_view()
def programmes(request: StaffRequest) -> HttpResponse:
    rows = Programme.objects.annotate(seal_count=Count("seals")).order_by("-is_default", "name")
    return render(request, "console/programmes.html", {"programmes": rows})


@staff_view()
def programme_create(request: StaffRequest) -> HttpResponse:
    form = ProgrammeForm(request.POST or None)
    status = 200
    if _wants_preview(request):
        preview = _preview_url(None, form.cleaned_data) if form.is_valid() else ""
        context = {"form": form, "preview_image": preview, "previewing": True}
        return render(
            request, "console/programme_form.html", context, status=200 if preview else 400
        )
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.programme_create(issuer=request.issuer, **data)
            except (DomainError, ValidationError) as exc:
                add_service_error(form, exc)
                status = getattr(exc, "status_code", 400)
            else:
                messages.success(request, _("Programme created."))
                return redirect("console:programmes")
    return render(request, "console/programme_form.html", {"form": form}, status=status)


@staff_view()
def programme_edit(request: StaffRequest, pk: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=pk)
    # The live look: one of its seals as the public sees it (same-origin image, no script).
    sample = Seal.objects.filter(programme=programme).order_by("-created_at").first()
    status = 200
    preview, previewing = "", False
    if _wants_preview(request):
        # Shown, not saved: the page comes back with the form as typed and its image.
        form = ProgrammeForm(request.POST, editing=True)
        previewing = True
        if form.is_valid():
            preview = _preview_url(programme, form.cleaned_data)
        else:
            status = 400
    elif request.method == "POST":
        form = ProgrammeForm(request.POST, editing=True)
        status = 400
        if form.is_valid():
            try:
                registry.programme_update(programme=programme, **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                add_service_error(form, exc)
                status = getattr(exc, "status_code", 400)
                programme.refresh_from_db()
            else:
                messages.success(request, _("Programme saved; its seals show the change now."))
                return redirect("console:programme-edit", pk=programme.pk)
    else:
        form = ProgrammeForm(initial=ProgrammeForm.initial_for(programme), editing=True)
    if not previewing:
        preview = _preview_url(programme, {f: getattr(programme, f) for f in DESIGN_FIELDS})
    return render(
        request,
        "console/programme_form.html",
        {
            "form": form,
            "programme": programme,
            "sample_image": links.image_url(sample, "svg") if sample else "",
            "preview_image": preview,
            "previewing": previewing,
            "logo_form": LogoForm(),
        },
        status=status,
    )


@staff_view()
@never_cache  # drawn from unsaved settings: nothing to keep
def programme_preview(request: StaffRequest, fmt: str) -> HttpResponse:
    """The seal image of the design settings in the query string (``DesignForm``), as the
    public image route would draw it once they are saved."""
    form = DesignForm(request.GET)
    if fmt not in FORMATS or not form.is_valid():
        problems = [
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        ]
        return HttpResponse(
            "; ".join(problems) or _("Unknown image format."),
            status=400 if fmt in FORMATS else 404,
            content_type="text/plain; charset=utf-8",
        )
    data = form.cleaned_data
    if data["programme"]:
        programme = get_object_or_404(Programme, pk=data["programme"], issuer=request.issuer)
    else:
        programme = Programme(issuer=request.issuer, slug="preview")
    for name in DESIGN_FIELDS:
        setattr(programme, name, data[name])  # on this instance only: never saved
    with translation.override(data["lang"] or settings.LANGUAGE_CODE):
        body = design.programme_preview(
            programme=programme,
            fmt=fmt,
            size=data["size"] or "medium",
            now=timezone.now(),
            sample_member=_("Example Member Ltd"),
        )
    return HttpResponse(body, content_type=FORMATS[fmt])


@staff_view()
@require_POST
def issuer_logo(request: StaffRequest, pk: int) -> HttpResponse:
    """Upload the issuer's logo from a programme's page (back to it after)."""
    programme = get_object_or_404(Programme, pk=pk)
    form = LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("console:programme-edit", pk=programme.pk)
    upload = form.cleaned_data["logo"]
    if upload.size > LOGO_MAX_BYTES:  # before reading it into memory
        messages.error(request, _("The logo is larger than 2 MB."))
        return redirect("console:programme-edit", pk=programme.pk)
    try:
        registry.issuer_logo_set(issuer=request.issuer, data=upload.read())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Logo saved; every seal shows it now."))
    return redirect("console:programme-edit", pk=programme.pk)


@staff_view()
@require_POST
def programme_delete(request: StaffRequest, pk: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=pk)
    try:
        registry.programme_delete(programme=programme)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("console:programme-edit", pk=programme.pk)
    messages.success(request, _("Programme deleted."))
    return redirect("console:programmes")
