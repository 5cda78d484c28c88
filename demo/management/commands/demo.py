"""Seed the demo issuer idempotently and print what a newcomer needs to try it.

Besides members in every status, the demo holds one seal that expires two minutes after each
run (re-armed on every run) and a webhook endpoint for the local sink ``make run`` starts
(``webhook_sink``), so the whole worker path can be watched: the flip, the expiry notice, the
``seal.expired`` webhook and its delivery log.
"""

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from config.tenancy import scopes_disabled
from effects.management.commands import webhook_sink
from effects.webhooks import webhook_endpoint_create, webhook_endpoint_update
from issuers.models import Issuer, Member, Programme, StaffRole, WebhookEndpoint
from issuers.services import apikey_create, member_create, programme_default
from issuers.staff import staff_user_create
from seals import links
from seals.models import Notice, Seal, SealStatus
from seals.registry import issuer_create
from seals.services import seal_award, seal_reinstate, seal_renew, seal_revoke, seal_suspend

DEMO_SLUG = "demo-guild"

# external_ref, display name, domain, (valid_from, expires_at) offsets in days, then action
DEMO_MEMBERS = [
    ("DEMO-ACTIVE", "Acme Plumbing", "acme-plumbing.example", (-30, 335), None),
    ("DEMO-EXPIRING", "Brightside Electrics", "brightside.example", (-360, 5), None),
    ("DEMO-EXPIRED", "Copperfield Roofing", "copperfield.example", (-400, -35), None),
    ("DEMO-SUSPENDED", "Dunmore Glazing", "dunmore.example", (-100, 265), "suspend"),
    ("DEMO-REVOKED", "Eastwick Builders", "eastwick.example", (-200, 165), "revoke"),
]
# The seal to watch: it expires this long after every run of the command.
SOON_REF, SOON_NAME, SOON_DOMAIN = "DEMO-TWO-MINUTES", "Fairway Joinery", "fairway.example"
SOON = timedelta(minutes=2)
# The demo issuer's console owner; the password is generated once into var/ (owner-only).
OWNER_EMAIL = "owner@guild.example"
OWNER_PASSWORD_FILE = "demo-console-password"  # noqa: S105 (the file's name, not a secret)


@dataclass
class Seeded:
    plaintext: str
    seals: list[tuple[str, Seal]]
    soon: Seal
    endpoint: WebhookEndpoint
    password: str


class Command(BaseCommand):
    help = (
        "Create (once) a demo issuer whose members hold seals in every status; re-arm its "
        "two-minute seal and its webhook endpoint for the local sink."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sink-port",
            type=int,
            default=webhook_sink.sink_port(),
            help="port of the local webhook sink (default: TRUSTSEAL_SINK_PORT or "
            f"{webhook_sink.DEFAULT_PORT})",
        )

    @scopes_disabled()  # an operator's command: it creates the demo issuer first
    def handle(self, *args: object, sink_port: int, **options: object) -> None:
        # Seed first, print after the commit: output trouble must not roll the seed back.
        seeded = self._seed(sink_port)
        secret_path = webhook_sink.write_secret(seeded.endpoint.secret)
        if seeded.plaintext:
            self.stdout.write(f"Demo API key (shown once, store it now): {seeded.plaintext}")
        else:
            self.stdout.write(
                "Demo issuer exists; its API key was shown when it was created. "
                f"Make another with: manage.py createapikey {DEMO_SLUG}"
            )
        for ref, seal in seeded.seals:
            self._print_seal(ref, seal)
        self._print_watch(seeded.soon, seeded.endpoint, secret_path)
        # Last, on lines of their own: what a newcomer opens first.
        self.stdout.write("")
        self.stdout.write(f"Console: {settings.PUBLIC_BASE_URL}{settings.CONSOLE_PATH}")
        self.stdout.write(f"Sign in as {OWNER_EMAIL} / {seeded.password}")
        self.stdout.write(f"Register: {settings.PUBLIC_BASE_URL}/issuers/{DEMO_SLUG}/register")
        self.stdout.write(f"Member portal: {settings.PUBLIC_BASE_URL}{reverse('portal-root')}")
        if seeded.seals:
            contact = seeded.seals[0][1].member.contact_email
            self.stdout.write(
                f"  sign in as a member's contact, {contact}: the worker prints the link "
                "(console e-mail backend)"
            )

    @transaction.atomic
    def _seed(self, sink_port: int) -> Seeded:
        plaintext = ""
        issuer = Issuer.objects.filter(slug=DEMO_SLUG).first()
        if issuer is None:
            issuer = issuer_create(
                slug=DEMO_SLUG,
                name="Guild of Demo Traders",
                website="https://guild.example",
            )
            plaintext = apikey_create(issuer=issuer, name="demo").plaintext
        seals = []
        programme = programme_default(issuer)
        now = timezone.now()
        for ref, name, domain, (start, end), action in DEMO_MEMBERS:
            member = _demo_member(issuer, ref, name, domain)
            seal = member.seals.first()
            if seal is None:
                seal = seal_award(
                    member=member,
                    programme=programme,
                    actor="demo",
                    valid_from=now + timedelta(days=start),
                    expires_at=now + timedelta(days=end),
                )
                if action == "suspend":
                    seal = seal_suspend(seal=seal, reason="Complaint under review", actor="demo")
                elif action == "revoke":
                    seal = seal_revoke(seal=seal, reason="Membership withdrawn", actor="demo")
            seals.append((ref, seal))
        # The endpoint before the two-minute seal, so the sink also shows that seal's
        # issued/renewed event at start-up, not only its expiry.
        endpoint = self._endpoint(issuer, f"http://127.0.0.1:{sink_port}{webhook_sink.PATH}")
        soon = self._arm_soon(issuer, programme, now)
        password = _console_owner(issuer)
        return Seeded(
            plaintext=plaintext, seals=seals, soon=soon, endpoint=endpoint, password=password
        )

    def _endpoint(self, issuer: Issuer, url: str) -> WebhookEndpoint:
        """The demo issuer's endpoint for the local sink, subscribed to every event.

        The URL is on loopback, which the outbound guard refuses unless WEBHOOKS_ALLOW_PRIVATE
        is set. Only this registration is exempted here; deliveries are checked again by the
        worker, which ``make run`` (Procfile.dev) starts with the setting on.
        """
        endpoint = (
            WebhookEndpoint.objects.filter(issuer=issuer, url__endswith=webhook_sink.PATH)
            .order_by("pk")
            .first()
        )
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
            if endpoint is None:
                return webhook_endpoint_create(issuer=issuer, url=url, event_types=[]).endpoint
            if endpoint.url != url or endpoint.event_types or not endpoint.active:
                endpoint = webhook_endpoint_update(
                    endpoint=endpoint, url=url, event_types=[], active=True
                )
        return endpoint

    def _arm_soon(self, issuer: Issuer, programme: Programme, now: datetime) -> Seal:
        """Award the two-minute seal, or renew it to expire two minutes from now."""
        expires_at = now + SOON
        member = _demo_member(issuer, SOON_REF, SOON_NAME, SOON_DOMAIN)
        seal = member.seals.exclude(status=SealStatus.REVOKED).order_by("-pk").first()
        if seal is None:
            return seal_award(
                member=member,
                programme=programme,
                actor="demo",
                valid_from=now - timedelta(days=30),
                expires_at=expires_at,
            )
        if seal.status == SealStatus.SUSPENDED:
            seal = seal_reinstate(seal=seal, reason="Demo re-armed", actor="demo")
        # A notice cycle is the expiry *date* (effects/notices.py), so a second run on the same
        # day would find this cycle's notices already sent and send none: the demo forgets
        # them so that the re-armed seal's notices go out again.
        Notice.objects.filter(seal=seal, cycle=expires_at.astimezone(UTC).date()).delete()
        return seal_renew(seal=seal, expires_at=expires_at, reason="Demo re-armed", actor="demo")

    def _print_seal(self, ref: str, seal: Seal) -> None:
        self.stdout.write(f"\n{ref} ({seal.member.display_name}):")
        self.stdout.write(f"  image:   {links.image_url(seal, 'svg')}")
        self.stdout.write(f"  verify:  {links.verify_url(seal)}")
        self.stdout.write(f"  embed:   {links.embed_snippet(seal)}")
        base = f"{settings.PUBLIC_BASE_URL}/s/{seal.public_id}"
        self.stdout.write(
            f"  credential: {base}/credential.jwt (Data Integrity: credential.json; "
            "baked: badge.png, badge.svg)"
        )

    def _print_watch(self, seal: Seal, endpoint: WebhookEndpoint, secret_path: Path) -> None:
        if seal.expires_at is None:  # seeded with an expiry two minutes ahead
            raise CommandError(f"The demo seal {SOON_REF} has no expiry to watch.")
        at = seal.expires_at.astimezone(UTC).strftime("%H:%M:%S UTC")
        self._print_seal(SOON_REF, seal)
        lines = [
            f"  expires: {at}, two minutes from now (every run of `manage.py demo` re-arms it)",
            "",
            f"Webhooks: endpoint {endpoint.pk} -> {endpoint.url} (every event); the sink reads "
            f"its secret from {secret_path}.",
            "",
            f"What to watch for after {at} (beat runs each job every "
            f"{settings.TRUSTSEAL_BEAT_SECONDS} s, so allow a minute or two):",
            "  1. the flip: the worker logs 'beat job seals_refresh_status ran ... expired=1' "
            f"(or more), and {links.verify_url(seal)}.json says expired",
            "     (the public page and image say so at once: they never wait for the worker);",
            "  2. the notice: the worker prints the e-mail (console backend) to "
            f"{seal.member.contact_email}, subject 'Your {seal.programme.name} seal from "
            f"{seal.issuer.name} has expired' (folded over lines)",
            "     (an 'expires in 1 day' notice goes out at the first planning run before it);",
            "  3. the webhook: the sink prints "
            f"'webhook seal.expired delivery=... seal={seal.public_id} signature=ok';",
            "  4. the delivery log: curl -H 'Authorization: Bearer <demo API key>' "
            f"{settings.PUBLIC_BASE_URL}/api/v1/webhooks/{endpoint.pk}/deliveries",
        ]
        for line in lines:
            self.stdout.write(line)


def _demo_member(issuer: Issuer, ref: str, name: str, domain: str) -> Member:
    member = Member.objects.filter(issuer=issuer, external_ref=ref).first()
    if member is None:
        member = member_create(
            issuer=issuer,
            external_ref=ref,
            legal_name=f"{name} Ltd",
            display_name=name,
            domains=[domain],
            country="GB",
            contact_name="Demo Contact",
            contact_email=f"office@{domain}",
        )
    return member


def _console_password() -> str:
    """The demo owner's password: made once into var/ (mode 0600), the same on every run."""
    path = Path(settings.VAR_DIR) / OWNER_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(password)
    return password


def _console_owner(issuer: Issuer) -> str:
    """The demo issuer's owner with a verified address and the password in var/ (set again
    on every run, so a regenerated file and the account always agree)."""
    password = _console_password()
    staff = staff_user_create(
        issuer=issuer, email=OWNER_EMAIL, password=password, role=StaffRole.OWNER
    )
    user = staff.user
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=OWNER_EMAIL, defaults={"verified": True, "primary": True}
    )
    return password
