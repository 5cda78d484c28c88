"""Encryption at rest for personal fields, and keyed hashes for equality lookups.

Written by hand on top of ``cryptography`` rather than taken from a package: the Django field
packages we looked at either derive their key from SECRET_KEY (rotating it would lose the data)
or are unmaintained for Django 5.2. This is ~50 lines around MultiFernet (AES-128-CBC +
HMAC-SHA256, authenticated): the first key in FIELD_ENCRYPTION_KEYS encrypts, all of them
decrypt, so a key is rotated by prepending a new one and running ``manage.py reencryptfields``
(``rotatekeys`` is the separate rotation of the signing keys' key-encryption key).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def field_fernet() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def key_fernet() -> MultiFernet:
    """For private signing keys: a separate key-encryption key from personal data."""
    return _multifernet(tuple(settings.KEY_ENCRYPTION_KEYS))


def blind_index(value: str) -> str:
    """HMAC-SHA256 of a normalised value, so equal e-mails can be found without decrypting."""
    normalised = value.strip().casefold()
    if not normalised:
        return ""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; '' is stored as '' (nothing to protect)."""

    def get_prep_value(self, value: Any) -> str:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return field_fernet().encrypt(str(value).encode()).decode()

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        try:
            return field_fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"{self.model.__name__}.{self.name}: cannot decrypt; "
                "is the key that wrote it still in FIELD_ENCRYPTION_KEYS?"
            ) from exc

    def get_internal_type(self) -> str:
        return "TextField"


class EncryptedBinaryField(models.BinaryField):
    """Bytes stored as a Fernet token, for blobs that may quote personal data (replayable API
    answers, uploaded import files). Rows written before the field was encrypted (no Fernet
    prefix) are read as they are; new writes are always encrypted."""

    _TOKEN_PREFIX = b"gAAAAA"  # version byte 0x80 + timestamp, base64url

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is not None and not prepared:
            value = field_fernet().encrypt(bytes(value))
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> bytes | None:
        if value is None:
            return None
        raw = bytes(value)
        if not raw.startswith(self._TOKEN_PREFIX):
            return raw
        try:
            return field_fernet().decrypt(raw)
        except InvalidToken as exc:
            raise ValueError(
                f"{self.model.__name__}.{self.name}: cannot decrypt; "
                "is the key that wrote it still in FIELD_ENCRYPTION_KEYS?"
            ) from exc
