"""Base settings: 12-factor, every value from the environment with an embedded default.

With no environment at all: SQLite (WAL) under var/, a disk cache under var/cache/ shared by
every process, Celery on kombu's file-system transport under var/, console e-mail, secrets
generated once into var/.
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

from config.env import BASE_DIR, VAR_DIR, env, is_production, secret, secret_list

VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # For OpClass in the trigram indexes (issuers.models.Member); inert on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "outbox",
    "issuers",
    "seals",
    "effects",
    "privacy",
    "transparency",
    "announcements",
    "workers",
    "console",
    "portal",
    # Staff accounts for the console: e-mail sign-in and verification, password reset, rate
    # limits, and a second factor (TOTP, recovery codes, WebAuthn), all allauth's own.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on through each issuer's own OpenID Connect provider (console.sso).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "demo",
]

MIDDLEWARE = [
    # Outermost: strips any cookie from public seal routes, whatever a later layer does.
    "seals.public_middleware.PublicResponseMiddleware",
    # A Content-Security-Policy on every HTML (and SVG) answer that has none of its own.
    "config.security_headers.SecurityHeadersMiddleware",
    # 503 problem+json instead of a 500 while the database is unreachable.
    "config.degraded.DatabaseUnavailableMiddleware",
    # Each request starts on the primary until it marks reads lag-tolerant (config.db_router).
    "config.db_router.PrimaryPinMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The console (and its allauth pages) in the person's language; public routes untouched.
    "console.locale_middleware.ConsoleLocaleMiddleware",
    # Then, once signed in to the portal, its member's language (unless one was picked).
    "portal.locale_middleware.PortalLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff's admin spans issuers: its requests run with tenant scopes disabled (config.tenancy).
    "config.tenancy.AdminScopesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_sqlite_path = VAR_DIR / "trustseal.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{_sqlite_path}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers (web) and a writer (worker) work at once; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A covering index's INCLUDE columns are PostgreSQL's (the member search walks one there);
    # SQLite builds the same index on its key columns, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A query is not split across cores by default: a server answering many requests has no idle
# core to lend, and a parallel plan's workers then queue behind the other requests. At
# 1,000,000 members on two busy cores the member list's search with a status took 83-111 ms
# with two workers and 45-81 ms alone (docs/performance.md).
_PARALLEL = env.int("DB_PARALLEL_WORKERS_PER_GATHER", default=0)


def _postgres_session(config: dict) -> dict:
    if config["ENGINE"] != "django.db.backends.sqlite3":
        options = config.setdefault("OPTIONS", {})
        given = options.get("options", "")
        options["options"] = f"{given} -c max_parallel_workers_per_gather={_PARALLEL}".strip()
    return config


_postgres_session(DATABASES["default"])
# Read replicas (PostgreSQL streaming replicas of DATABASE_URL), comma-separated. Only reads
# marked lag-tolerant (config.db_router.replica_reads: lists, statistics, the register,
# exports) go there, and never after the same request's or task's write; everything that
# decides a status reads the primary.
DATABASE_REPLICAS: list[str] = []
for _n, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _replica = _postgres_session(env.db_url_config(_url))
    _replica.setdefault("CONN_MAX_AGE", DATABASES["default"].get("CONN_MAX_AGE", 0))
    _replica["CONN_HEALTH_CHECKS"] = True
    # Tests run against the primary's test database: a replica has no test database of its own.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_n}"] = _replica
    DATABASE_REPLICAS.append(f"replica_{_n}")
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# The public-read fast path (fastpath/): seal image hits replayed before Django's handler, over
# snapshot copies kept true by Redis tracking. Off, neither the WSGI wrapper (config/wsgi.py)
# nor its cache backend is used; only speed changes.
PUBLIC_IMAGE_FASTPATH = env.bool("PUBLIC_IMAGE_FASTPATH", default=True)
REDIS_URL = env.str("REDIS_URL", default="")
# Redis with Sentinel (high availability): the Sentinels' host:port list and the master's name
# replace REDIS_URL for the cache, the counters and the broker; every client asks the Sentinels
# for the current master and follows it after a failover (docs/operations.md, "Growing").
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="trustseal")
# Optional secrets (Redis may run without AUTH on a private network); NAME_FILE works too.
REDIS_PASSWORD = env.str("REDIS_PASSWORD", default="")
REDIS_SENTINEL_PASSWORD = env.str("REDIS_SENTINEL_PASSWORD", default="")
REDIS_DB = env.int("REDIS_DB", default=0)
_redis_options: dict[str, Any] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
if REDIS_SENTINELS:
    _redis_location = f"sentinel://{REDIS_SENTINEL_MASTER}/{REDIS_DB}"
    _redis_options |= {
        "sentinels": REDIS_SENTINELS,
        "service_name": REDIS_SENTINEL_MASTER,
        "sentinel_password": REDIS_SENTINEL_PASSWORD or None,
        "password": REDIS_PASSWORD or None,
        "db": REDIS_DB,
    }
else:
    _redis_location = REDIS_URL
REDIS_CONFIGURED = bool(_redis_location)
if REDIS_CONFIGURED:
    CACHES = {
        "default": {
            # One client per pool (config/cache.py); the fast path's adds the tracked copies.
            "BACKEND": (
                "fastpath.cache.RedisCache" if PUBLIC_IMAGE_FASTPATH else "config.cache.RedisCache"
            ),
            "LOCATION": _redis_location,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ts"),
            "OPTIONS": _redis_options,
        }
    }
    # The public views' counters in an instance of their own (one INCR per image hit, which
    # a cache primary serving every page's snapshot need not carry): a plain Redis URL.
    if _counters_url := env.str("REDIS_COUNTERS_URL", default=""):
        CACHES["counters"] = {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": _counters_url,
            "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"],
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
else:
    # One cache for every process of the embedded default (web, worker, beat), so it behaves
    # as production does: a status list the worker re-signs is the one the web serves, a beat
    # lock taken by one worker process binds the other, counters pushed by the web are the ones
    # the worker flushes. diskcache is SQLite (WAL) plus files under var/cache/: get ~45 µs,
    # set ~330 µs, an atomic incr ~85 µs, and no increment lost across processes, where
    # Django's DatabaseCache and FileBasedCache lost three in four (bench/cache_backends.py,
    # docs/design.md §6). A busy shard is retried, never reported as a miss.
    CACHES = {
        "default": {
            "BACKEND": "diskcache.DjangoCache",
            "LOCATION": env.str("CACHE_DIR", default=str(VAR_DIR / "cache")),
            # One shard: FanoutCache.transact (the counters' read-modify-write) locks every shard,
            # and a few processes on one host gain nothing from spreading writes.
            "SHARDS": 1,
            "OPTIONS": {"size_limit": 512 * 1024 * 1024},
        }
    }

# --- Celery ---------------------------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
if REDIS_SENTINELS:
    # kombu's form: one sentinel:// URL per Sentinel, joined by ";" (the master's password
    # rides in the URLs, the Sentinels' in sentinel_kwargs below).
    _auth = f":{REDIS_PASSWORD}@" if REDIS_PASSWORD else ""
    _broker_default = ";".join(f"sentinel://{_auth}{s}/{REDIS_DB}" for s in REDIS_SENTINELS)
else:
    _broker_default = REDIS_URL or "filesystem://"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_default)
if CELERY_BROKER_URL == "filesystem://":
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; kombu's default is a "control" folder in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu sleeps this long whenever a poll finds nothing it may take, including every time
        # the worker's prefetch slots are full: at its default of 1 s a worker with two slots
        # drained ~2 messages a second, and a 1,500-row import waited ~8 min behind ~900
        # webhook deliveries. A poll is a listdir of var/broker/queue: cheap at 10 a second.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis re-delivers an unacknowledged message after this. No task waits in the broker
        # on a countdown (a retry is an outbox row due later), so it only has to exceed the
        # longest run (an import, 15 min); the outbox relay hands out a lost message long before.
        "visibility_timeout": 8 * 3600,
        # A publish while Redis is away fails at once and the outbox keeps the message for the
        # relay: one connection attempt instead of kombu's retries for broker_connection_timeout
        # with 2-s pauses (6 s per request, measured), and a bounded wait on a Redis that stopped
        # answering (kombu waits forever by default). The worker's consumer keeps its own
        # reconnection loop (broker_connection_max_retries).
        "max_retries": 0,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
    }
    if CELERY_BROKER_URL.startswith("sentinel://"):
        CELERY_BROKER_TRANSPORT_OPTIONS |= {
            "master_name": REDIS_SENTINEL_MASTER,
            "sentinel_kwargs": {"password": REDIS_SENTINEL_PASSWORD or None},
        }
    # Anything else kombu's transport takes (e.g. {"master_name": "other"}), as JSON; it wins.
    CELERY_BROKER_TRANSPORT_OPTIONS |= env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
# A broker outage is waited out, however long, at start and at run time: a worker that gives
# up would need a person to restart it (make run's supervisor would, with a back-off, but
# every restart drops the prefetched messages back to the broker and re-runs start-up).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Keeps the worker alive when Redis goes away while it holds messages (config/worker_consumer.py).
CELERY_WORKER_CONSUMER = "config.worker_consumer:Consumer"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ALWAYS_EAGER = False
# Two queues: "celery" (the default) for the many one-object messages (a webhook delivery, a
# notice, a seal's images), "jobs" for whole jobs (imports, the periodic jobs). A worker consumes
# from both in turn, so a job waits for a free slot, not for a backlog of deliveries to drain. A
# worker started without -Q consumes every queue listed here (make run, docker-compose); one
# started with -Q must name both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("jobs", Exchange("jobs"), routing_key="jobs"),
)
CELERY_TASK_ROUTES = {
    task: {"queue": "jobs"}
    for task in (
        "workers.regenerate_status_lists",
        "workers.seals_refresh_status",
        "workers.notices_plan",
        "workers.outbox_relay",
        "workers.stats_flush",
        "workers.misuse_digests_plan",
        "workers.privacy_daily",
        "workers.transparency_catch_up",
    )
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}  # each area adds its jobs below
# Status lists: a verifier must see a revocation or suspension within a minute of the change
# (docs/verification.md); that minute is split in seals/status_lists.py (LIST_TTL_MS).
STATUS_LIST_REGENERATE_SECONDS = 15.0
CELERY_BEAT_SCHEDULE["regenerate-status-lists"] = {
    "task": "workers.regenerate_status_lists",
    "schedule": STATUS_LIST_REGENERATE_SECONDS,
    "options": {"expires": STATUS_LIST_REGENERATE_SECONDS * 0.9},
}
# Workers: every job runs each TRUSTSEAL_BEAT_SECONDS; each takes a beat lock for most of that
# interval, so a second beat by mistake does no double work, and an execution lock for as long
# as it runs, so a run longer than its interval never overlaps the next (workers/locks.py).
TRUSTSEAL_BEAT_SECONDS = env.int("TRUSTSEAL_BEAT_SECONDS", default=60)
# The execution lock's lease, renewed every third of it while the job runs: a holder that
# crashed frees the job this long after its last renewal.
EXECUTION_LOCK_SECONDS = env.int("EXECUTION_LOCK_SECONDS", default=30)
for _job, _task in (
    ("seals-refresh-status", "workers.seals_refresh_status"),
    ("notices-plan", "workers.notices_plan"),
    ("stats-flush", "workers.stats_flush"),
):
    CELERY_BEAT_SCHEDULE[_job] = {
        "task": _task,
        "schedule": float(TRUSTSEAL_BEAT_SECONDS),
        # A slot nobody ran in time is dropped, not queued behind the next one.
        "options": {"expires": TRUSTSEAL_BEAT_SECONDS * 0.9},
    }
# The daily misuse digest (effects/misuse_digest.py): yesterday's, planned once the day's last
# flush is in; checking every few minutes costs one query when it is already owed.
CELERY_BEAT_SCHEDULE["misuse-digests-plan"] = {
    "task": "workers.misuse_digests_plan",
    "schedule": 300.0,
    "options": {"expires": 300 * 0.9},
}
# The outbox relay hands the broker whatever it does not hold: never handed off (the broker was
# down), handed off long ago but still there (a lost message), or leased by a worker that died.
# Every side effect (webhooks, notices, image pre-renders, imports) goes out this way.
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=10.0)
OUTBOX_RELAY_AGAIN_SECONDS = env.int("OUTBOX_RELAY_AGAIN_SECONDS", default=120)
CELERY_BEAT_SCHEDULE["outbox-relay"] = {
    "task": "workers.outbox_relay",
    "schedule": OUTBOX_RELAY_SECONDS,
    "options": {"expires": OUTBOX_RELAY_SECONDS * 0.9},
}
# Transparency logs: every issuer's log catches up with its chain this often (and at once on
# an outbox nudge), so a new checkpoint is signed well within a minute of an event.
TRANSPARENCY_CATCH_UP_SECONDS = env.float("TRANSPARENCY_CATCH_UP_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE["transparency-catch-up"] = {
    "task": "workers.transparency_catch_up",
    "schedule": TRANSPARENCY_CATCH_UP_SECONDS,
    "options": {"expires": TRANSPARENCY_CATCH_UP_SECONDS * 0.9},
}
NOTICE_MAX_ATTEMPTS = env.int("NOTICE_MAX_ATTEMPTS", default=6)
# Expired notices are not created for expiries older than this (first start, long outage).
NOTICE_LOOKBACK_DAYS = env.int("NOTICE_LOOKBACK_DAYS", default=7)
WEBHOOK_BACKOFF_CAP_SECONDS = 6 * 3600
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
CELERY_TIMEZONE = "UTC"

# --- E-mail ---------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Trustseal <no-reply@trustseal.local>")

# --- Encryption -----------------------------------------------------------------------------
# Personal fields: MultiFernet, first key encrypts, every key decrypts (rotation).
FIELD_ENCRYPTION_KEYS = secret_list("FIELD_ENCRYPTION_KEYS")
# Key-encryption keys for issuers' private signing keys.
KEY_ENCRYPTION_KEYS = secret_list("KEY_ENCRYPTION_KEYS")
# HMAC key for equality lookups on encrypted e-mails.
BLIND_INDEX_KEY = secret("BLIND_INDEX_KEY")

# --- Privacy: retention periods (GDPR art. 5(1)(e)), enforced daily by workers.privacy_daily ---
RETENTION_DAILY_STATS_MONTHS = env.int("RETENTION_DAILY_STATS_MONTHS", default=13)
RETENTION_WEBHOOK_DELIVERY_DAYS = env.int("RETENTION_WEBHOOK_DELIVERY_DAYS", default=30)
RETENTION_CLOSED_DATA_REQUEST_YEARS = env.int("RETENTION_CLOSED_DATA_REQUEST_YEARS", default=3)
RETENTION_IMPORT_SOURCE_DAYS = env.int("RETENTION_IMPORT_SOURCE_DAYS", default=7)
# Whole import jobs (counts and row errors, which name rows and fields but never contact values).
RETENTION_IMPORT_JOB_DAYS = env.int("RETENTION_IMPORT_JOB_DAYS", default=90)
# The console's account log (who changed staff, keys, webhooks): two years covers a yearly
# audit and its follow-up; the entries name people, so they do not stay for ever.
RETENTION_ACCOUNT_LOG_DAYS = env.int("RETENTION_ACCOUNT_LOG_DAYS", default=730)
# Misuse reports (a visitor's message and, when given, e-mail address): a year lets the issuer
# follow a copied seal up and see it come back; past that the report is deleted whole.
RETENTION_MISUSE_REPORT_DAYS = env.int("RETENTION_MISUSE_REPORT_DAYS", default=365)
# An import run renews its outbox lease after every batch (about a second of work); a worker
# that dies is presumed so this long after its last batch, and the relay (OUTBOX_RELAY_SECONDS)
# hands the import to another worker, well within five minutes.
IMPORT_LEASE_SECONDS = env.int("IMPORT_LEASE_SECONDS", default=120)
# Rows per import batch, each its own transaction: on SQLite another writer waits at most one
# batch (a few hundred ms for 1,000 rows on a quiet box, ~14 s on a badly overloaded one, below
# the 20 s busy timeout); smaller batches repeat per-batch queries more often
# (docs/performance.md).
IMPORT_BATCH_ROWS = env.int("IMPORT_BATCH_ROWS", default=1000)
CELERY_BEAT_SCHEDULE["privacy-daily"] = {
    "task": "workers.privacy_daily",
    # Day-grained and idempotent work (reminders are claimed once, deletions repeat harmlessly),
    # run hourly so a missed slot delays it by an hour rather than a day.
    "schedule": 3600.0,
    "options": {"expires": 3000},
}

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The public pages, seal images and certificates speak these (seals/i18n.py chooses).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("ar", "العربية"),
]
# Compiled .mo files are committed next to their .po (tests/seals/test_i18n.py keeps them equal).
LOCALE_PATHS = [
    BASE_DIR / "seals" / "locale",
    BASE_DIR / "issuers" / "locale",
    BASE_DIR / "console" / "locale",
    BASE_DIR / "effects" / "locale",
    BASE_DIR / "portal" / "locale",
    BASE_DIR / "privacy" / "locale",
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trustseal issuer API",
    "DESCRIPTION": "Manage members, programmes and seals. Errors are RFC 9457 problem+json.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Sign-in exists only in the console (DESIGN §7): its session and CSRF cookies are sent back on
# its paths alone, so no public request ever carries them. The operators' admin lives under the
# same path (/console/admin/; /admin/ redirects there) to share them. Secure unless DEBUG (a
# browser keeps a Secure cookie on http://127.0.0.1 and localhost, so make run still signs in).
CONSOLE_PATH = "/console/"
SESSION_COOKIE_PATH = CONSOLE_PATH
CSRF_COOKIE_PATH = CONSOLE_PATH
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The console's language choice (console.locale_middleware) lives where its session does:
# never sent to public routes.
LANGUAGE_COOKIE_PATH = CONSOLE_PATH
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)

# --- Console accounts (django-allauth) ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # the admin's username sign-in
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "console:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Trustseal] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PUBLIC_BASE_URL.startswith("https:") else "http"
# Sign-up only through an invitation (console.adapters); everyone else is turned away.
ACCOUNT_ADAPTER = "console.adapters.AccountAdapter"
# Apps come from each issuer's IdentityProvider; sign-in links invited staff only (console.sso).
SOCIALACCOUNT_ADAPTER = "console.sso.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching by address is the adapter's, per issuer
SOCIALACCOUNT_STORE_TOKENS = False  # sign-in only: the console never calls the IdP afterwards
SOCIALACCOUNT_PROVIDERS: dict = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# allauth's defaults, written out so they are reviewed: failed sign-ins per IP and per account,
# reset and confirmation mails per address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# Staff roles that may use the console only with a second factor set up (e.g. "owner,manager");
# none by default, so the demo's owner signs in with the printed password alone.
CONSOLE_MFA_REQUIRED_ROLES = env.list("CONSOLE_MFA_REQUIRED_ROLES", default=[])
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Trustseal")
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure context; http://127.0.0.1 is one to browsers, but python-fido2 checks
# the origin's scheme itself.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or PUBLIC_BASE_URL.startswith("http://127.0.0.1")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Client IP comes from X-Forwarded-For only through this many trusted proxies (0: REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Public endpoints: requests per minute per client /24 (IPv4) or /48 (IPv6), config/ratelimit.py.
# 0 switches a scope off. Seal images are left to the edge (see that module).
PUBLIC_RATE_LIMITS = {
    "default": env.int("PUBLIC_RATE_LIMIT_PER_MINUTE", default=600),
    "verify-credential": env.int("VERIFY_CREDENTIAL_RATE_LIMIT_PER_MINUTE", default=30),
    "certificate": env.int("CERTIFICATE_RATE_LIMIT_PER_MINUTE", default=30),
    # The public register and "check a website": each answer is a search, not a cache hit.
    "search": env.int("SEARCH_RATE_LIMIT_PER_MINUTE", default=120),
    # Asking the member portal for a sign-in link: each answer may send a mail.
    "portal-sign-in": env.int("PORTAL_SIGN_IN_RATE_LIMIT_PER_MINUTE", default=10),
    # "Report misuse" on a verification page: each report is stored and mailed to the issuer.
    "misuse-report": env.int("MISUSE_REPORT_RATE_LIMIT_PER_MINUTE", default=5),
}

# --- Product --------------------------------------------------------------------------------
TRUSTSEAL_REQUIRE_SERVICES = env.bool("TRUSTSEAL_REQUIRE_SERVICES", default=False)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The SVG's font subsets (seals/render/svg.py): fontTools narrates every table it
        # prunes at INFO, ~40 lines per cold SVG.
        "fontTools": {"level": "WARNING"},
    },
}

IS_PRODUCTION = is_production()
BASE_DIR = BASE_DIR
