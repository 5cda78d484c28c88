"""Test overlay: fast hashing, quiet logs, a file-backed SQLite test database.

The SQLite test database lives in a file (not memory) so a real Celery worker started by a test
sees the same rows.
"""

import os

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, VAR_DIR

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# The embedded default's disk cache, in a folder of its own: the suite clears it around every
# test and must not empty the cache of a `make run` in the same checkout. A worker a test starts
# runs with these settings, so it shares the test's cache as make run's processes share theirs.
if CACHES["default"]["BACKEND"] == "diskcache.DjangoCache":
    CACHES["default"]["LOCATION"] = str(VAR_DIR / "test-cache")

# Outbound webhooks go to receivers on 127.0.0.1 in tests; the SSRF tests switch this off.
WEBHOOKS_ALLOW_PRIVATE = True

# A Celery worker started by an integration test (tests/workers/test_integration_*.py) runs
# with these settings and must see the test run's database and its SMTP server.
if _test_db := os.environ.get("TRUSTSEAL_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = _test_db
if _smtp_port := os.environ.get("TRUSTSEAL_TEST_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(_smtp_port)
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
    EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
    EMAIL_TIMEOUT = 10

# A test-only replica alias: a second connection to the test database (Django's TEST MIRROR),
# unused until a test names it in DATABASE_REPLICAS, so a test can see which connection the
# router chose for each query (tests/test_db_router.py).
DATABASES["replica_test"] = {
    **{k: v for k, v in DATABASES["default"].items() if k != "TEST"},
    "TEST": {"MIRROR": "default"},
}
