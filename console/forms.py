"""The console's forms: the shape of what people type, as the API's serializers are for JSON.
They check shape only; the rules are the services' (their errors are shown on the form)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError, InvalidInputError
from console.words import SEAL_EVENT, SEAL_STATUS, translated_choices
from issuers.domains import normalise_domains
from issuers.models import Programme, StaffRole
from issuers.text import validate_multi_line_text
from seals import selectors
from seals.models import SealEvent, SealStatus

MEMBER_SORTS = [
    ("display_name", _("Name (A to Z)")),
    ("-display_name", _("Name (Z to A)")),
    ("external_ref", _("Number")),
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
    ("-updated_at", _("Recently changed")),
]


class ProgrammeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Programme) -> str:
        return obj.name


def _programmes():
    # Read when the form is built, inside the request's issuer scope (a class-level queryset
    # would be built at import, outside any scope, and refused).
    return Programme.objects.order_by("-is_default", "name")


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or number"), required=False, max_length=100)
    domain = forms.CharField(label=_("Domain"), required=False, max_length=253)
    status = forms.ChoiceField(
        label=_("Seal status"),
        required=False,
        choices=[("", _("Any")), *translated_choices(SealStatus.choices, context=SEAL_STATUS)],
    )
    programme = forms.ChoiceField(label=_("Programme"), required=False)
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=2,
        # Two letters of ISO 3166-1: the placeholder shows the shape, the error names it.
        widget=forms.TextInput(
            attrs={"size": 3, "placeholder": "GB", "autocapitalize": "characters"}
        ),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=MEMBER_SORTS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        programme = cast(forms.ChoiceField, self.fields["programme"])
        programme.choices = [("", _("Any"))] + [(p.slug, p.name) for p in _programmes()]

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip()
        if not domain:
            return ""
        try:
            return normalise_domains([domain])[0]
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_country(self) -> str:
        try:
            return selectors.list_country(self.cleaned_data["country"])
        except InvalidInputError as refused:
            raise forms.ValidationError(str(refused)) from refused

    def selector_filters(self) -> dict:
        """The filters of seals.selectors.members_list, from the cleaned data."""
        names = ("q", "domain", "status", "programme", "country")
        return {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name)}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_multi_line_text],
        help_text=_("Kept in the seal's history; not published."),
    )


class RenewForm(ReasonForm):
    expires_on = forms.DateField(
        label=_("New expiry date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The seal is valid to the end of this day (the issuer's time zone)."),
    )

    def service_arguments(self) -> dict:
        return {
            "reason": self.cleaned_data["reason"],
            # A date: the seal services read it as that whole day in the issuer's time zone.
            "expires_at": self.cleaned_data["expires_on"],
        }


class AwardForm(forms.Form):
    programme = ProgrammeChoiceField(queryset=Programme.objects.none(), label=_("Programme"))
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: from now."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the programme's validity period."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["programme"])
        field.queryset = _programmes()
        field.initial = field.queryset.filter(is_default=True).first()

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "programme": data["programme"],
            # Dates: the seal services read them as whole days in the issuer's time zone.
            "valid_from": data.get("valid_from") or None,
            "expires_at": data.get("expires_on") or None,
        }


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Event"),
        required=False,
        choices=[("", _("Any")), *translated_choices(SealEvent.Kind.choices, context=SEAL_EVENT)],
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=100)
    member = forms.CharField(label=_("Member number"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("'From' is after 'To'; swap them."))
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(
        label=_("Role"), choices=translated_choices(StaffRole.choices), initial=StaffRole.VIEWER
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=translated_choices(StaffRole.choices))


class MemberForm(forms.Form):
    """A member's profile as people type it; the services normalise and validate it again."""

    external_ref = forms.CharField(label=_("Membership number"), max_length=100)
    legal_name = forms.CharField(label=_("Legal name"), max_length=300)
    display_name = forms.CharField(
        label=_("Display name"), max_length=300, required=False, help_text=_("Empty: legal name.")
    )
    domains = forms.CharField(
        label=_("Domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One hostname per line (example.com), where the seal may be shown."),
    )
    country = forms.CharField(
        label=_("Country"), max_length=2, min_length=2, required=False, help_text="ISO 3166-1"
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=50, required=False)
    marketing_opt_out = forms.BooleanField(label=_("Marketing opt-out"), required=False)
    language = forms.ChoiceField(
        label=_("Language of mail"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,  # not sent: left as it is (a new member gets the default)
        help_text=_("Expiry notices and announcements to this member speak it."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the number is the member's key (imports upsert by it): fixed once made
            del self.fields["external_ref"]
        else:
            del self.fields["marketing_opt_out"]

    def clean_domains(self) -> list[str]:
        lines = [d.strip() for d in self.cleaned_data["domains"].replace(",", "\n").splitlines()]
        try:
            return normalise_domains([d for d in lines if d])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if not cleaned.get("language"):
            cleaned.pop("language", None)
        return cleaned

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"] or self.data.get("legal_name", "")

    @staticmethod
    def initial_for(member) -> dict:
        return {
            "legal_name": member.legal_name,
            "display_name": member.display_name,
            "domains": "\n".join(member.domains),
            "country": member.country,
            "contact_name": member.contact_name,
            "contact_email": member.contact_email,
            "contact_phone": member.contact_phone,
            "marketing_opt_out": member.marketing_opt_out,
            "language": member.language,
        }


class StatsFilterForm(forms.Form):
    """The statistics' window and subject: the API's ``from``/``to`` (seals.selectors.
    stats_window decides the defaults and the limits), one programme or one seal."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    programme = forms.ChoiceField(label=_("Programme"), required=False)
    seal = forms.CharField(label=_("Seal"), required=False, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        programme = cast(forms.ChoiceField, self.fields["programme"])
        programme.choices = [("", _("All programmes"))] + [(p.slug, p.name) for p in _programmes()]


def add_service_error(form: forms.Form, exc: ValidationError | DomainError) -> None:
    """Show what a service refused on the form: on the field it names when the form has that
    field, else above the form."""
    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
