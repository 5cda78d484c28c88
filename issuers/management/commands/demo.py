"""Seed the demo issuer idempotently and print what a newcomer needs to try it."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from issuers.models import Issuer, Member
from issuers.services import apikey_create, issuer_create, member_create, programme_default
from seals import links
from seals.models import Seal
from seals.services import seal_award, seal_revoke, seal_suspend

DEMO_SLUG = "demo-guild"

# external_ref, display name, domain, (valid_from, expires_at) offsets in days, then action
DEMO_MEMBERS = [
    ("DEMO-ACTIVE", "Acme Plumbing", "acme-plumbing.example", (-30, 335), None),
    ("DEMO-EXPIRING", "Brightside Electrics", "brightside.example", (-360, 5), None),
    ("DEMO-EXPIRED", "Copperfield Roofing", "copperfield.example", (-400, -35), None),
    ("DEMO-SUSPENDED", "Dunmore Glazing", "dunmore.example", (-100, 265), "suspend"),
    ("DEMO-REVOKED", "Eastwick Builders", "eastwick.example", (-200, 165), "revoke"),
]


class Command(BaseCommand):
    help = "Create (once) a demo issuer whose members hold seals in every status."

    def handle(self, *args, **options) -> None:
        # Seed first, print after the commit: output trouble must not roll the seed back.
        plaintext, seals = self._seed()
        if plaintext:
            self.stdout.write(f"Demo API key (shown once, store it now): {plaintext}")
        else:
            self.stdout.write(
                "Demo issuer exists; its API key was shown when it was created. "
                f"Make another with: manage.py createapikey {DEMO_SLUG}"
            )
        for ref, seal in seals:
            self._print_seal(ref, seal)

    @transaction.atomic
    def _seed(self) -> tuple[str, list[tuple[str, Seal]]]:
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
        return plaintext, seals

    def _print_seal(self, ref: str, seal: Seal) -> None:
        self.stdout.write(f"\n{ref} ({seal.member.display_name}):")
        self.stdout.write(f"  image:   {links.image_url(seal, 'svg')}")
        self.stdout.write(f"  verify:  {links.verify_url(seal)}")
        self.stdout.write(f"  embed:   {links.embed_snippet(seal)}")
