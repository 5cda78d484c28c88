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


def test_replicas_and_sentinels_come_from_the_environment(tmp_path):
    env = {
        "DATABASE_URL": "postgres://app@db-primary:5432/trustseal",
        "DATABASE_REPLICA_URLS": "postgres://app@db-r1:5432/trustseal,postgres://app@db-r2/trustseal",
        "REDIS_SENTINELS": "s1:26379,s2:26379,s3:26379",
        "REDIS_SENTINEL_MASTER": "seals",
        "REDIS_PASSWORD": "redis-pw",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw",
        "REDIS_COUNTERS_URL": "redis://counters:6379/0",
        "CELERY_BROKER_TRANSPORT_OPTIONS": '{"visibility_timeout": 3600}',
    }
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'replicas': [s.DATABASES[a]['HOST'] for a in s.DATABASE_REPLICAS],"
        "'mirror': s.DATABASES['replica_1']['TEST'],"
        "'cache': s.CACHES['default']['OPTIONS'], 'counters': s.CACHES['counters']['LOCATION'],"
        "'broker': s.CELERY_BROKER_URL, 'transport': s.CELERY_BROKER_TRANSPORT_OPTIONS,"
        "'sessions': [s.DATABASES[a]['OPTIONS'] for a in ('default', *s.DATABASE_REPLICAS)]}))"
    )
    result = manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    import json

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["replicas"] == ["db-r1", "db-r2"] and seen["mirror"]["MIRROR"] == "default"
    # No query split across cores, on the primary as on each replica.
    assert all(o["options"] == "-c max_parallel_workers_per_gather=0" for o in seen["sessions"]), (
        seen["sessions"]
    )
    assert seen["cache"]["sentinels"] == ["s1:26379", "s2:26379", "s3:26379"]
    assert seen["cache"]["service_name"] == "seals" and seen["cache"]["password"] == "redis-pw"
    assert seen["cache"]["sentinel_password"] == "sentinel-pw"
    assert seen["counters"] == "redis://counters:6379/0"
    assert seen["broker"] == ";".join(f"sentinel://:redis-pw@s{n}:26379/0" for n in (1, 2, 3))
    transport = seen["transport"]
    assert transport["master_name"] == "seals" and transport["visibility_timeout"] == 3600
    assert transport["sentinel_kwargs"] == {"password": "sentinel-pw"}
