from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from issuers.models import Issuer
from issuers.services import apikey_create
from seals.registry import issuer_create


class Command(BaseCommand):
    help = "Create an issuer (with its default programme and signing key) and one API key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--kind", default=Issuer.Kind.ASSOCIATION, choices=Issuer.Kind.values)
        parser.add_argument("--website", default="")

    def handle(self, *args, slug: str, name: str, kind: str, website: str, **options) -> None:
        if Issuer.objects.filter(slug=slug).exists():
            raise CommandError(f"An issuer with slug {slug!r} exists already.")
        try:
            issuer = issuer_create(slug=slug, name=name, kind=kind, website=website)
        except IntegrityError as exc:
            raise CommandError(str(exc)) from exc
        key = apikey_create(issuer=issuer, name="initial")
        self.stdout.write(f"Issuer {issuer.slug!r} created.")
        self.stdout.write(f"API key (shown once, store it now): {key.plaintext}")
