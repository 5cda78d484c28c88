"""Reports of a seal shown where it should not be: the public form, its token, the service.

The form lives on a public route, which sets no cookie (DESIGN §1.3), so Django's CSRF cookie
cannot protect it. It does not need one: the report is anonymous, so a forged submission
"on behalf of" a visitor gains an attacker nothing a direct one would not. What the form does
need is to keep scripts from firing reports at an issuer in bulk, and for that it carries:

- a signed, time-limited token (``form_token``) naming the seal, issued with the form page, so
  a report has to come from a form fetched recently for that very seal;
- a honeypot field (``website``) that people never see or fill and naive bots do;
- the per-network rate limit of ``config.ratelimit`` (scope ``misuse-report``), which keys on
  a hash of the client network and stores no address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issuers.domains import normalise_domain
from issuers.events import webhook_emit
from outbox import core as outbox
from seals.models import MisuseReport, Seal

TOKEN_SALT = "seals.misuse.form"  # noqa: S105 -- a signing namespace, not a secret
# Long enough to read the page and write a few lines; short enough that a harvested token
# is soon worthless.
TOKEN_MAX_AGE_SECONDS = 2 * 3600
MAIL_TOPIC = "misuse.mail"
MESSAGE_MAX = 2000


def form_token(seal_id: str) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(seal_id)


def token_names(token: str, seal_id: str) -> bool:
    """Whether ``token`` is a genuine, unexpired form token for ``seal_id``."""
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign(
            token, max_age=TOKEN_MAX_AGE_SECONDS
        )
    except signing.BadSignature:  # SignatureExpired is one
        return False
    return value == seal_id


class MisuseReportForm(forms.Form):
    site_url = forms.CharField(
        label=_("Website where you saw the seal"),
        max_length=500,
        help_text=_("The address of the page, e.g. https://shop.example/about"),
    )
    message = forms.CharField(
        label=_("What is wrong?"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    email = forms.EmailField(
        label=_("Your e-mail (optional)"),
        required=False,
        help_text=_("Only if the issuer may write back to you. Nothing else is done with it."),
    )
    # The honeypot: hidden from people by the stylesheet and labelled for screen readers as
    # one to leave empty.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: object, seal_id: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seal_id = seal_id

    def clean_site_url(self) -> str:
        raw = self.cleaned_data["site_url"].strip()
        url = raw if "://" in raw else f"https://{raw}"
        try:
            parts = urlsplit(url)
            host = normalise_domain(parts.hostname or "")
        except (ValueError, forms.ValidationError) as exc:
            raise forms.ValidationError(_("Enter the address of a website.")) from exc
        if parts.scheme not in ("http", "https") or not host:
            raise forms.ValidationError(_("Enter the address of a website."))
        self.cleaned_data["site_host"] = host
        return url

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("website"):
            raise forms.ValidationError(_("This form could not be sent. Please try again."))
        if not token_names(self.data.get("token", ""), self.seal_id):
            raise forms.ValidationError(
                _("This form has expired. Please check your entries and send it again.")
            )
        return data


@transaction.atomic
def misuse_report_create(
    *, seal: Seal, site_url: str, site_host: str, message: str, reporter_email: str = ""
) -> MisuseReport:
    """Store the report and, in the same transaction, what tells the issuer: a
    ``misuse.reported`` webhook to its endpoints and an outbox message for its e-mail."""
    report = MisuseReport.objects.create(
        issuer_id=seal.issuer_id,
        seal=seal,
        site_url=site_url[:500],
        site_host=site_host[:253],
        message=message[:MESSAGE_MAX],
        reporter_email=reporter_email,
        created_at=timezone.now(),
    )
    # No message and no e-mail in the webhook: both may hold personal data (issuers.events).
    webhook_emit(
        issuer_id=seal.issuer_id,
        event_type="misuse.reported",
        data={"report": report.pk, "seal": seal.public_id, "site_host": report.site_host},
        at=report.created_at,
    )
    outbox.put(MAIL_TOPIC, {"report_id": report.pk})
    return report
