"""Telling an issuer about a misuse report by e-mail (the outbox topic ``misuse.mail``).

To the issuer's owners and managers, and its public address: the people who can act on it
(``issuers.models.StaffRole``). The report itself stays in the console; the mail says where,
the seal, and the visitor's words, and links the console list.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from issuers.models import StaffMember, StaffRole
from seals import links
from seals.models import MisuseReport


def misuse_recipients(report: MisuseReport) -> list[str]:
    staff = StaffMember.objects.filter(
        issuer_id=report.issuer_id, role__in=[StaffRole.OWNER, StaffRole.MANAGER]
    ).values_list("user__email", flat=True)
    found = [*staff, report.issuer.public_email]
    return sorted({address for address in found if address})


def misuse_report_notify(*, report_id: int) -> bool:
    """Send the issuer its mail about report ``report_id``, once; False when there was nothing
    to send (already sent, gone, or nobody to send to).

    Steps: load the report; skip it when ``notified_at`` is set; send; set ``notified_at``
    with a conditional UPDATE. A worker that dies between the send and the update sends it
    again on the outbox's retry: a second mail, never none, which is the better failure here.
    """
    report = (
        MisuseReport.objects.select_related("issuer", "seal__member")
        .filter(pk=report_id, notified_at__isnull=True)
        .first()
    )
    if report is None:
        return False
    to = misuse_recipients(report)
    if to:
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        context = {
            "report": report,
            "seal": report.seal,
            "verify_url": links.verify_url(report.seal),
            "console_url": f"{settings.PUBLIC_BASE_URL}/console/misuse-reports/",
        }
        EmailMessage(
            subject=f"Misuse report: seal of {report.seal.member.display_name} on "
            f"{report.site_host or report.site_url}",
            body=render_to_string("seals/email/misuse_report.txt", context),
            from_email=formataddr(("Trustseal", sender)),
            to=to,
            # The reporter asked to be written back to: a reply goes to them.
            reply_to=[report.reporter_email] if report.reporter_email else None,
            headers={"Auto-Submitted": "auto-generated"},
        ).send()
    MisuseReport.objects.filter(pk=report.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return bool(to)
