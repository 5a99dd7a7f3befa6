"""Django settings for aftershow.

SQLite is the embedded default so `make demo` works on a fresh machine; set
``AFTERSHOW_DB_ENGINE=postgresql`` (with the libpq variables PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE) when the team outgrows one machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AFTERSHOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _local_secret(filename: str, make: str) -> str:
    """A secret for a development machine: created once under var/ and reused."""
    path = VAR_DIR / filename
    if not path.exists():
        if make == "fernet":
            from cryptography.fernet import Fernet

            value = Fernet.generate_key().decode()
        else:
            import secrets

            value = secrets.token_urlsafe(50)
        path.write_text(value)
        path.chmod(0o600)
    return path.read_text().strip()


# Off unless asked for: DEBUG keeps every SQL query in memory, which a worker cannot afford.
DEBUG = os.environ.get("AFTERSHOW_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("AFTERSHOW_SECRET_KEY") or _local_secret("secret_key", "token")
# Fernet keys for shop credentials at rest; the first encrypts, all decrypt (rotation).
CREDENTIAL_KEYS = _env_list("AFTERSHOW_CREDENTIAL_KEYS") or [
    _local_secret("credential_key", "fernet")
]
ALLOWED_HOSTS = _env_list("AFTERSHOW_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Serves the API docs' Swagger UI assets locally (no CDN).
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "aftershow.core",
    "aftershow.accounts",
    "aftershow.audit",
    "aftershow.shops",
    "aftershow.catalog",
    "aftershow.inventory",
    "aftershow.creators",
    "aftershow.orders",
    "aftershow.fulfillment",
    "aftershow.risk",
    "aftershow.integrations",
    "aftershow.imports",
    "aftershow.stocksync",
    "aftershow.commissions",
    "aftershow.metrics",
    "aftershow.alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "aftershow.urls"
WSGI_APPLICATION = "aftershow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aftershow" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DB_ENGINE = os.environ.get("AFTERSHOW_DB_ENGINE", "sqlite")
if DB_ENGINE == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "aftershow"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {
        "default": {
            # Django's backend with fair write-lock waits (aftershow/core/sqlite_backend/base.py).
            "ENGINE": "aftershow.core.sqlite_backend",
            "NAME": os.environ.get("AFTERSHOW_SQLITE_PATH", str(VAR_DIR / "aftershow.sqlite3")),
            # Keep a thread's connection between requests: opening one costs milliseconds.
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # The web server, the worker and the scheduler share one file: WAL lets readers
                # run beside the writer, IMMEDIATE takes the write lock up front so two writers
                # queue (polling for the lock, up to "timeout" seconds) instead of failing with
                # "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            # A file, not memory: tests run real worker threads and processes against it.
            "TEST": {
                "NAME": os.environ.get("AFTERSHOW_SQLITE_TEST_PATH", str(VAR_DIR / "test.sqlite3"))
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "orders:list"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "aftershow" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the app folders: no collectstatic step before `make demo`.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "aftershow" / "static"]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("AFTERSHOW_LOG_LEVEL", "WARNING")},
    # runserver's one line per request drowns everything else during a burst of webhooks.
    "loggers": {"django.server": {"level": os.environ.get("AFTERSHOW_LOG_LEVEL", "WARNING")}},
}

# Outbound HTTP defaults (aftershow.core.http): every call has a timeout; retries are bounded.
HTTP_TIMEOUT_SECONDS = float(os.environ.get("AFTERSHOW_HTTP_TIMEOUT", "15"))
HTTP_MAX_ATTEMPTS = int(os.environ.get("AFTERSHOW_HTTP_MAX_ATTEMPTS", "6"))
HTTP_MAX_RETRY_WAIT_SECONDS = float(os.environ.get("AFTERSHOW_HTTP_MAX_RETRY_WAIT", "30"))

# TikTok Shop: production hosts; each shop may override them (the sandbox does).
TIKTOK_API_BASE_URL = "https://open-api.tiktokglobalshop.com"
TIKTOK_AUTH_BASE_URL = "https://auth.tiktok-shops.com"
# Alert orders this many hours before their ship-by deadline when no carrier has scanned them.
SHIP_BY_ALERT_LEAD_HOURS = float(os.environ.get("AFTERSHOW_SHIP_BY_ALERT_LEAD_HOURS", "6"))

# Connectors are reached through dotted paths so domain code never imports them.
CHANNEL_CONNECTORS = {
    "tiktok": "aftershow.integrations.tiktok.sync.TikTokConnector",
    "shopify": "aftershow.integrations.shopify.sync.ShopifyConnector",
    "amazon": "aftershow.integrations.amazon.sync.AmazonConnector",
    "ebay": "aftershow.integrations.ebay.sync.EbayConnector",
}
