"""Re-encrypt every issuer's private signing key with the current key-encryption key."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.tenancy import scopes_disabled
from seals.keys import signing_keys_reencrypt


class Command(BaseCommand):
    help = (
        "After prepending a new Fernet key to KEY_ENCRYPTION_KEYS, re-encrypt every private "
        "signing key with it (MultiFernet.rotate); the old key can then be removed."
    )

    @scopes_disabled()  # every issuer's keys
    def handle(self, *args, **options) -> None:
        count = signing_keys_reencrypt()
        self.stdout.write(f"Re-encrypted {count} signing key(s) with the first KEK.")
