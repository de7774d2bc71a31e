"""The one settings module: every deployment value comes from the environment.

Development defaults are safe and need no set-up (SQLite file, DEBUG off unless asked).
Production sets DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS and SECURE_* through the environment;
nothing here exists only in production.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default key is for development only; `check --deploy` flags it, production sets its own.
SECRET_KEY = env.str(
    "SECRET_KEY", default="django-insecure-development-only-key-set-SECRET_KEY-in-production"
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "registry",
    "titles",
    "community",
    "programmes",
    "accounts",
    "audit",
    "django_tasks",
    "django_tasks_db",
    "jobs",
    "ops",
    "devtools",
]

MIDDLEWARE = [
    "ops.middleware.RequestMiddleware",
    "ops.middleware.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "registry.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ops.middleware.PrivateCacheMiddleware",
    "ops.middleware.PageParameterMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    # Last, so that it sees the login view's failed attempt and answers with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "learnsociety.urls"

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
                "django.template.context_processors.i18n",
                "registry.context_processors.role",
                "registry.context_processors.sections",
            ],
        },
    },
]

WSGI_APPLICATION = "learnsociety.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the development server and a command share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Per-connection server settings (libpq's `options`). JIT compilation cost 670–750 ms of a
    # 900 ms list query at Hanoi scale and gains nothing on these short indexed reads: off,
    # whatever the server's own setting. README: "PostgreSQL settings".
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", env.str("PG_OPTIONS", default="-c jit=off")
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule on the password: Django calls its password_changed() whenever a password is
    # set and saved (by the user, an administrator, `grant --password`, `changepassword`).
    {"NAME": "accounts.tokens.PasswordChangeEndsApiTokens"},
]

# Axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our Vietnamese formats (learnsociety/formats/vi): dates dd/mm/yyyy on every page and print.
FORMAT_MODULE_PATH = ["learnsociety.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# Uploads. A request body other than files is refused above DATA_UPLOAD_MAX_MEMORY_SIZE; an
# uploaded file is kept in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then in a temporary file.
# An upload form refuses a spreadsheet larger than IMPORT_MAX_BYTES or with more data rows than
# IMPORT_MAX_ROWS, with a message on the form; the import commands read any number of rows.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
# What any spreadsheet (upload or command) may expand to; beyond, it is refused with a message
# before a parser builds anything (registry.spreadsheets.ReadLimits).
IMPORT_MAX_PART_BYTES = env.int("IMPORT_MAX_PART_BYTES", default=256 * 1024 * 1024)
IMPORT_MAX_SHEETS = env.int("IMPORT_MAX_SHEETS", default=100)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=256)
IMPORT_MAX_CELLS = env.int("IMPORT_MAX_CELLS", default=5_000_000)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=32_767)

# `manage.py evaluate` shares each title's registrations among this many processes, each with
# its own database connection (PostgreSQL only; on SQLite, and from the web pages, it runs in
# one). One per core of the database server is about right; the default is this machine's.
EVALUATE_WORKERS = env.int("EVALUATE_WORKERS", default=min(4, os.cpu_count() or 1))

# Background jobs (django-tasks; its database backend needs no other server, on SQLite and
# PostgreSQL alike): pages start a job and show its progress; `manage.py jobs_worker` runs them
# (`make run` starts one beside the server). TASKS_BACKEND=django_tasks.backends.immediate.
# ImmediateBackend runs each job at once inside the request instead (tests, tiny installs).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# A worker says it is alive every JOB_HEARTBEAT_SECONDS; a running job whose worker has been
# silent for JOB_STALE_SECONDS is failed (its unfinished transaction died with the worker).
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=5)
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=60)
# An uploaded file a job works on is kept in the database until the job ends; a file whose dry
# run passed waits JOB_INPUT_HOURS for its import, then is deleted.
JOB_INPUT_HOURS = env.int("JOB_INPUT_HOURS", default=24)
# A decision with more certificates than this prints them through a job (a file to download)
# instead of one page that would hold the request and the browser.
CERTIFICATES_PAGE_MAX = env.int("CERTIFICATES_PAGE_MAX", default=200)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# Security: secure by default; a plain-HTTP development server sets SECURE_SSL_REDIRECT=0 etc.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Sessions: a login lasts at most SESSION_COOKIE_AGE seconds, ends after SESSION_IDLE_TIMEOUT
# seconds without a request (0: never) and, unless SESSION_EXPIRE_AT_BROWSER_CLOSE=0, when the
# browser closes (accounts.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failed logins for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES, on the login page, the admin's login and
# the API's token endpoint alike. A success resets the count. Administrators unlock early by
# deleting the "access attempt" in Django admin (or `manage.py axes_reset_username NAME`).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# Logins and logouts are in the audit log; axes keeps only the failures it counts.
AXES_DISABLE_ACCESS_LOG = True
# The client's address: the connection's, or behind the TLS proxy the one the proxy appended to
# X-Forwarded-For (the last; earlier ones are whatever the client sent).
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"

# Content Security Policy (django-csp): everything from the app itself, no inline script or
# style, no framing. Swagger UI at /api/docs/ loads its start-up script from a URL too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features the app never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# The read API under /api/v1/: token or session authentication, every answer scoped like the
# pages (see registry.api and titles.api), pages of 100 rows. The API's views use
# registry.api.Pagination, which also takes ?page_size= up to 1000; it cannot be the default
# here because DRF imports the default while registry.api is still importing DRF.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request gets 401 with `WWW-Authenticate: Token`.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
}
# API tokens (django-rest-knox): only a SHA-512 digest of each key is stored; a token lasts
# API_TOKEN_TTL seconds from when it was issued (not extended by use) and ends earlier when its
# holder logs it out or the user's password changes (accounts.tokens).
API_TOKEN_TTL = env.int("API_TOKEN_TTL", default=24 * 3600)
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=API_TOKEN_TTL),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
# OpenAPI 3 at /api/schema/; Swagger UI at /api/docs/ from our own static files (no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "learnsociety API",
    "VERSION": "1",
    "DESCRIPTION": (
        "Read-only access to the registry (families, clans, residential areas, units, "
        "citizens), registrations and roll-ups of the learning-society titles. Authenticate "
        "with a session (log in at /accounts/login/) or a token (POST username and password "
        "to /api/v1/token/, then send `Authorization: Token <key>`). Every answer is scoped "
        "to the user's role and unit: what a user may not see is absent from lists and 404 "
        "on detail."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several choice sets are called "kind": each its own enum name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TitleKindEnum": "registry.models.Kind",
        "ProgrammeKindEnum": "programmes.models.ProgrammeKind",
        "DeliveryKindEnum": "programmes.models.DeliveryKind",
    },
}

# Logs: one JSON object per line on standard error, each with the request id (echoed to the
# client as X-Request-ID); a warning for every request slower than SLOW_REQUEST_MS.
SLOW_REQUEST_MS = env.int("SLOW_REQUEST_MS", default=500)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
