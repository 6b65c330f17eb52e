"""Waymark settings: one file, every value from the environment, safe development defaults.

Production is "DEBUG off": then SECRET_KEY must be set and the security settings that
`manage.py check --deploy` asks for are on.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)"
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-waymark-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Waymark refuses to start with DEBUG off and no secret key: "
            "set SECRET_KEY to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A form opened before a log-in or log-out elsewhere: a page that says what to do.
CSRF_FAILURE_VIEW = "ops.views.csrf_failure"
SITE_URL = os.environ.get("SITE_URL", "").strip().rstrip("/")
if not SITE_URL:
    if not DEBUG:
        # Certificate verification links, emails and calendar files carry it.
        raise ImproperlyConfigured(
            "SITE_URL is not set. With DEBUG off, set it to the public address people use, "
            "for example https://waymark.example"
        )
    SITE_URL = "http://127.0.0.1:8000"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "csp",
    "simple_history",
    "curriculum",
    "tracker",
    "ops",
    "nudges",
    "cohorts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the path or the query: values no database column can hold.
    "ops.middleware.refuse_unstorable_characters",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Sessions from before tracker.auth_backends name the backends' old paths.
    "ops.middleware.sessions_name_current_backends",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ops.middleware.private_when_signed_in",
    "ops.middleware.explain_method_not_allowed",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Curriculum history records saved in a request (the admin) name the person.
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.context_processors.learner_header",
            ],
            # Django 6's built-in partials syntax ({% partialdef %}) without a {% load %}.
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# Database: SQLite in the project by default (zero set-up), PostgreSQL via DATABASE_URL.
DATABASE_URL = (
    os.environ.get("DATABASE_URL", "").strip()
    or f"sqlite:///{BASE_DIR / 'var' / 'waymark.sqlite3'}"
)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Measured: deferred transactions lose most concurrent writes to "database is locked";
    # IMMEDIATE transactions + WAL + a busy timeout lose none.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    # A restarted database: stale persistent connections are noticed and replaced at the start
    # of the next request; an unreachable one fails in seconds, not minutes. Django's backend,
    # with a health check that asks the connection's socket before it sends a query
    # (ops/postgresql/base.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "ops.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3)
    )
# The hot statements written out in SQL (tracker.sql) run prepared on PostgreSQL: planned once
# per connection. They alone bind their parameters on the server, so psycopg prepares them at
# once (threshold 0) and nothing else. Turn off behind a connection pooler that cannot keep
# prepared statements (PgBouncer before 1.21 in transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and DATABASE_PREPARED_STATEMENTS:
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches. Sessions' cache and allauth's rate limits must be shared by every process (a
# per-process cache would count each gunicorn worker's log-in attempts separately), so the
# default cache is never per-process: the database cache without Redis; with REDIS_URL, Redis
# in front of the database cache, failing over to it within a fraction of a second when Redis
# is down or hung (ops.cache.FailoverCache; docs/operations.md says why).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHE_TIMEOUT_SECONDS = env_float("CACHE_TIMEOUT_SECONDS", 0.25)
# How long a cohort dashboard's weekly completions chart is kept before it is recomputed.
COHORT_CHART_CACHE_SECONDS = env_int("COHORT_CHART_CACHE_SECONDS", 300)
DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "waymark_cache",
    "KEY_PREFIX": "waymark",
    # Culling counts the table on every write: big enough for every live rate-limit key.
    "OPTIONS": {"MAX_ENTRIES": 20_000},
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "ops.cache.FailoverCache",
            "OPTIONS": {
                "PRIMARY": "redis",
                "FALLBACK": "database",
                "RETRY_AFTER": env_int("CACHE_RETRY_AFTER_SECONDS", 10),
            },
        },
        "redis": {
            "BACKEND": "ops.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "waymark",
            "OPTIONS": {
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
            },
        },
        "database": DATABASE_CACHE,
    }
    # Read from the cache, written through to the database: no session query per request,
    # and a cache that is cleared, down or hung logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": DATABASE_CACHE}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The broker defaults to REDIS_URL; CELERY_BROKER_URL may point it elsewhere (another Redis).
CELERY_BROKER_URL = (
    os.environ.get("CELERY_BROKER_URL", "").strip() or REDIS_URL or "redis://127.0.0.1:6379/0"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A hung broker must never hang a request: bounded socket timeouts and publish retries.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 3,
    "socket_connect_timeout": 3,
    "visibility_timeout": 3600,
}
# Several Waymarks (or test processes, under `pytest -n`) sharing one Redis database keep their
# task queues apart by a prefix on every broker key.
BROKER_KEY_PREFIX = os.environ.get("CELERY_KEY_PREFIX", "").strip()
if BROKER_KEY_PREFIX:
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = BROKER_KEY_PREFIX
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's schedule (`make beat`): the weekly-nudge dispatcher every hour on the hour. It sends
# the nudges that fell due since its last run, each in its learner's own time zone.
CELERY_BEAT_SCHEDULE = {
    "nudges-dispatch-hourly": {
        "task": "nudges.dispatch",
        "schedule": crontab(minute=0),
        # A dispatcher run that waited in the queue past the next one is superseded by it.
        "options": {"expires": 3000},
    },
    # Cohort messages: the compose page only writes their rows; this hands them to a worker.
    "cohorts-send-waiting": {
        "task": "cohorts.send_waiting",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# Weekly nudges (docs/nudges.md).
NUDGE_CHUNK_SIZE = env_int("NUDGE_CHUNK_SIZE", 500)  # learners per task
NUDGE_LEASE_SECONDS = env_int(
    "NUDGE_LEASE_SECONDS", 600
)  # a claim's life before another may take it
NUDGE_CATCH_UP_HOURS = env_int("NUDGE_CATCH_UP_HOURS", 24)  # how late a nudge may still go out
NUDGE_MAX_ATTEMPTS = env_int("NUDGE_MAX_ATTEMPTS", 6)  # SMTP attempts before giving up
NUDGE_RETRY_BASE_SECONDS = env_int("NUDGE_RETRY_BASE_SECONDS", 60)  # doubles after each failure
NUDGE_RETRY_MAX_SECONDS = env_int("NUDGE_RETRY_MAX_SECONDS", 3600)

# Argon2id first (memory-hard; ~170 ms a check here where PBKDF2's default took ~350 ms of CPU,
# 0.8-1.4 s under load); the others still check older hashes, which are upgraded on log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Django's and allauth's, loading the signed-in user with a prepared statement.
AUTHENTICATION_BACKENDS = [
    "tracker.auth_backends.ModelBackend",
    "tracker.auth_backends.AuthenticationBackend",
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "tracker:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "tracker.forms_account.SignupForm"
# Mandatory verification is what lets sign-up answer the same whether or not the address has
# an account (allauth then emails the owner instead of saying "already registered"); log-in and
# password reset never tell either. Weekly nudges only go to addresses that were confirmed.
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Rate limits (allauth's, kept in the shared cache): log-in 30/min per IP, failed log-ins
# 10/min per IP and 5 per 5 min per address, sign-up 20/min per IP, password reset 20/min per
# IP and 5/min per address. Behind N proxies you control, set TRUSTED_PROXY_COUNT=N so the
# limits count the client's address, not the proxy's.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Adding or changing an email address, or the password, asks for the password again unless the
# person signed in within the last five minutes, and the account's addresses are told of each
# change: a forged request in someone's session cannot quietly add an address to reset from.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Waymark] "
# allauth names an account by its username, which Waymark makes up from the email address.
ACCOUNT_USER_DISPLAY = "tracker.context_processors.account_display"
# The sign-up email's confirmation link keeps where the person was going (tracker/account_adapter).
ACCOUNT_ADAPTER = "tracker.account_adapter.AccountAdapter"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Waymark <waymark@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content Security Policy: nothing from elsewhere, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Security: what `check --deploy` asks for, on whenever DEBUG is off.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
# Health probes from inside the machine or container speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Curriculum loading limits (see docs/curriculum-format.md).
CURRICULUM_MAX_FILE_BYTES = env_int("CURRICULUM_MAX_FILE_BYTES", 1_000_000)

# /healthz: everyone sees ok / not ok per component; staff, a monitor sending
# "Authorization: Bearer $HEALTHZ_TOKEN", or everyone with HEALTHZ_DETAILS_PUBLIC=1 (a private
# network) also see error text, vendors and timings.
HEALTHZ_TOKEN = os.environ.get("HEALTHZ_TOKEN", "").strip()
HEALTHZ_DETAILS_PUBLIC = env_bool("HEALTHZ_DETAILS_PUBLIC", False)
