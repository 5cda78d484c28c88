"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS.

Key rotation for personal data: prepend a new Fernet key to FIELD_ENCRYPTION_KEYS, deploy, run
this command, then remove the old key. (Signing keys have their own KEK and ``rotatekeys``.)
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from issuers.encryption import EncryptedBinaryField, EncryptedTextField

BATCH = 500


def encrypted_columns() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField | EncryptedBinaryField)
        ]
        if fields:
            found.append((model, fields))
    return found


def reencrypt_model(model: type[models.Model], fields: list[str]) -> int:
    """Read (decrypting with any key) and write back (encrypting with the first), by batches,
    each in its own transaction so a large table does not hold one long lock."""
    rewritten = 0
    last_pk = 0
    # Writes go through QuerySet.update, not save(): no signals, no auto_now, no side effects.
    manager = model._base_manager
    while True:
        with transaction.atomic():
            rows = list(
                manager.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", *fields)[:BATCH]
            )
            for pk, *values in rows:
                changes = {f: v for f, v in zip(fields, values, strict=True) if v}
                if changes:
                    manager.filter(pk=pk).update(**changes)
                    rewritten += 1
        if len(rows) < BATCH:
            return rewritten
        last_pk = rows[-1][0]


class Command(BaseCommand):
    help = (
        "After prepending a new key to FIELD_ENCRYPTION_KEYS, rewrite every encrypted column "
        "with it; the old key can then be removed."
    )

    def handle(self, *args, **options) -> None:
        for model, fields in encrypted_columns():
            count = reencrypt_model(model, fields)
            self.stdout.write(
                f"{model._meta.label}: re-encrypted {count} row(s) ({', '.join(fields)})"
            )
