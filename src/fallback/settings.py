"""Django settings. Zero configuration by default; every knob is an environment variable.

FALLBACK_HOME      data folder (default: a per-user folder, see fallback.home)
DATABASE_URL       e.g. postgresql://user@host:5432/fallback (default: SQLite in FALLBACK_HOME)
FALLBACK_SECRET_KEY  shared secret when several machines serve one PostgreSQL database
FALLBACK_HTTPS     1 when served over HTTPS (secure cookies, HSTS)
FALLBACK_ALLOWED_HOSTS  comma-separated host names (default: any, as it serves a LAN)
FALLBACK_DEBUG     1 for development only
FALLBACK_EMAIL_HOST  the installation's outgoing mail server (members' own reminders); unset: none
  FALLBACK_EMAIL_PORT (587), FALLBACK_EMAIL_USER, FALLBACK_EMAIL_PASSWORD,
  FALLBACK_EMAIL_SECURITY (starttls | tls | none), FALLBACK_EMAIL_FROM,
  FALLBACK_URL (where people open Fallback, for links in mail, e.g. http://office-box:8000)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from fallback.home import DATABASE_FILE, ensure_home, load_or_create_secret_key


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
FALLBACK_HOME = ensure_home()

SECRET_KEY = os.environ.get("FALLBACK_SECRET_KEY") or load_or_create_secret_key(FALLBACK_HOME)
DEBUG = _flag("FALLBACK_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("FALLBACK_ALLOWED_HOSTS", "*").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs assets locally instead of from a CDN
    "axes",
    "django_tasks",
    "django_tasks_db",
    "fallback.accounts",
    "fallback.audit",
    "fallback.runtime",
    "fallback.monitor",
    "fallback.incidents",
    "fallback.replica",
    "fallback.desk",
    "fallback.plans",
    "fallback.comms",
    "fallback.vault",
    "fallback.front",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fallback.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fallback.audit.middleware.AuditActorMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fallback.urls"
WSGI_APPLICATION = "fallback.wsgi.application"

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
                "fallback.accounts.context_processors.organisations",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        return {"default": db}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": FALLBACK_HOME / DATABASE_FILE,
            # Tests use a file too (not shared-cache memory), so threads lock as in production.
            "TEST": {"NAME": str(FALLBACK_HOME / ("test-" + DATABASE_FILE))},
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE avoids
                # "database is locked" on lock upgrades; busy_timeout waits instead of failing.
                # synchronous=FULL: a commit is on disk before anyone is told "saved" (a
                # document made at the desk must survive a power cut); writers batch their
                # rows, so the extra fsync per commit costs little.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "front:home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures for one account from one address locks it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form's field is named "username" (it holds the email). Axes would otherwise read
# "email" (USERNAME_FIELD), record no username, and let a locked account in with the right password.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

HTTPS = _flag("FALLBACK_HTTPS")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60  # a working day, then log in again
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    CSRF_TRUSTED_ORIGINS = [
        o.strip() for o in os.environ.get("FALLBACK_CSRF_TRUSTED_ORIGINS", "").split(",") if o
    ]

# The installation's outgoing mail: reminders to members' own addresses. Not the
# organisations' backup mail accounts (those are for notices during an outage).
EMAIL_HOST = os.environ.get("FALLBACK_EMAIL_HOST", "").strip()
EMAIL_PORT = int(os.environ.get("FALLBACK_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("FALLBACK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("FALLBACK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("FALLBACK_EMAIL_SECURITY", "starttls").strip().lower() == "starttls"
EMAIL_USE_SSL = os.environ.get("FALLBACK_EMAIL_SECURITY", "").strip().lower() == "tls"
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("FALLBACK_EMAIL_FROM", "") or "fallback@localhost"
FALLBACK_URL = os.environ.get("FALLBACK_URL", "").strip().rstrip("/")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("FALLBACK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # nothing to collect: served from the package (below)
STATICFILES_DIRS = [BASE_DIR / "static"]  # the web UI's CSS and vendored htmx
# Serve straight from the package: no collectstatic step on a fresh install.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "fallback": {"level": "INFO"},
        "django_tasks_db": {"level": "INFO"},
    },
}
