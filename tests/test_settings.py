"""Start-up behaviour of the settings in production and with embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "SECRET_KEY": "x" * 64 + "production-secret-key-with-enough-entropy-1234567890",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "blind-index-key-for-the-test",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("DJANGO")}
    clean.update(env, TRUSTSEAL_VAR_DIR=str(tmp_path))
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_secrets(tmp_path):
    result = manage("check", env={"DJANGO_ENV": "production"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secrets.json").exists()


def test_production_check_deploy_is_clean(tmp_path):
    env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "seals.example", **SECRETS}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_files_are_accepted(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRETS["SECRET_KEY"])
    env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "seals.example", **SECRETS}
    env.pop("SECRET_KEY")
    env["SECRET_KEY_FILE"] = str(secret_file)
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_embedded_defaults_generate_secrets_once(tmp_path):
    first = manage("check", env={}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    stored = (tmp_path / "secrets.json").read_text()
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    manage("check", env={}, tmp_path=tmp_path)
    assert (tmp_path / "secrets.json").read_text() == stored
