from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from issuers.models import DataRequest


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Your contact e-mail address"), max_length=254)


class DetailsForm(forms.Form):
    """What a member corrects itself; the rest goes to the issuer as a rectification request."""

    display_name = forms.CharField(label=_("Display name"), max_length=300)
    domains = forms.CharField(
        label=_("Domains (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=300, required=False)
    # Required: it is how the member signs in here and where service mail goes.
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=50, required=False)

    def clean_domains(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["domains"].splitlines() if line.strip()]


# What only the issuer may change: a member asks for it through a rectification request.
CORRECTABLE = [("legal_name", _("Legal name")), ("country", _("Country")), ("other", _("Other"))]


class CorrectionForm(forms.Form):
    fields_wrong = forms.MultipleChoiceField(
        label=_("What is wrong"), choices=CORRECTABLE, widget=forms.CheckboxSelectMultiple
    )


class PreferencesForm(forms.Form):
    announcements = forms.BooleanField(label=_("Announcements from my issuer"), required=False)
    register_listed = forms.BooleanField(
        label=_("List us in the issuer's public register"),
        required=False,
        help_text=_("Anyone may search the register by name, number, domain and country."),
    )
    language = forms.ChoiceField(
        label=_("Language of mail"),
        choices=settings.LANGUAGES,
        required=False,  # not sent: unchanged
        help_text=_("Expiry notices and announcements are written in it."),
    )


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=DataRequest.Kind.choices)
