"""Typed environment access and the embedded-default secrets file.

django-environ reads the environment (``FileAwareEnv`` also accepts ``NAME_FILE`` pointing at a
Docker/Kubernetes secret file). With no environment at all, secrets are generated once into
``var/secrets.json`` (git-ignored) so a newcomer's ``make run`` just works; production refuses
to start without real secrets instead.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRUSTSEAL_VAR_DIR", BASE_DIR / "var"))

env = environ.FileAwareEnv()

# Secrets the platform needs; each can come from the environment (or NAME_FILE).
SECRET_NAMES = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "KEY_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")


def is_production() -> bool:
    return env.str("DJANGO_ENV", default="development") == "production"


def _generate_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


def _local_secrets() -> dict[str, str]:
    """Load ``var/secrets.json``, creating it (mode 0600) on first use."""
    path = VAR_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = _generate_secrets()
    # O_EXCL: two processes starting at once (web + worker) must not both write; the loser reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def secret(name: str) -> str:
    """A secret from the environment; in development, from ``var/secrets.json`` as a fallback."""
    value = env.str(name, default="")
    if value:
        return value
    if is_production():
        raise ImproperlyConfigured(
            f"{name} is not set. In production every secret comes from the environment "
            f"({name}=... or {name}_FILE=/run/secrets/...); see docs/operations.md."
        )
    return _local_secrets()[name]


def secret_list(name: str) -> list[str]:
    """A comma-separated secret list; the first entry is current, the rest are kept to decrypt."""
    return [part.strip() for part in secret(name).split(",") if part.strip()]


def default_settings_module() -> str:
    return "config.settings.production" if is_production() else "config.settings.base"
