"""Sign an issuer's credentials as its did:web DID, or again as its profile URL."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from issuers.models import Issuer
from seals.keys import issuer_did, issuer_id
from seals.registry import issuer_credentials_use_did_set


class Command(BaseCommand):
    help = (
        "Make an issuer sign credentials, status lists and status tokens as its DID "
        "(for verifiers that require DIDs, such as did-jwt-vc); --off signs as its URL again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the issuer's slug")
        parser.add_argument("--off", action="store_true", help="sign as the profile URL again")

    def handle(self, *args: object, slug: str, off: bool = False, **options: object) -> None:
        issuer = Issuer.objects.filter(slug=slug).first()
        if issuer is None:
            raise CommandError(f"No issuer {slug!r}.")
        issuer = issuer_credentials_use_did_set(issuer=issuer, enabled=not off)
        self.stdout.write(f"{slug} signs as {issuer_id(issuer)} (its DID: {issuer_did(issuer)}).")
