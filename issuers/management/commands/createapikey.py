from django.core.management.base import BaseCommand, CommandError

from issuers.models import ApiKey, Issuer
from issuers.services import apikey_create


class Command(BaseCommand):
    help = "Create an API key for an issuer; the key is printed once and never stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("issuer_slug")
        parser.add_argument("--name", default="cli")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKey.Scope.values,
            dest="scopes",
            help="read and/or write (repeat the flag); default both",
        )

    def handle(self, *args, issuer_slug: str, name: str, scopes, **options) -> None:
        issuer = Issuer.objects.filter(slug=issuer_slug).first()
        if issuer is None:
            raise CommandError(f"No issuer with slug {issuer_slug!r}.")
        key = apikey_create(issuer=issuer, name=name, scopes=scopes)
        self.stdout.write(f"API key {name!r} for {issuer.slug} (shown once): {key.plaintext}")
