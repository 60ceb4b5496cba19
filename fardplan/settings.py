"""Settings for fardplan.

Every setting comes from the environment (django-environ). With nothing set the
app runs on the embedded default: SQLite under ``var/``, Celery tasks executed
in-process, e-mail printed to the console. ``FARDPLAN_ENV=production`` turns on
the production profile, which refuses to start without ``SECRET_KEY`` and
``ALLOWED_HOSTS``.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

FARDPLAN_ENV = env.str("FARDPLAN_ENV", default="development")
if FARDPLAN_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"FARDPLAN_ENV must be development, production or test, not {FARDPLAN_ENV!r}."
    )
PRODUCTION = FARDPLAN_ENV == "production"


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value.strip():
        raise ImproperlyConfigured(
            f"{name} must be set in the environment when FARDPLAN_ENV=production."
        )
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
    DEBUG = env.bool("DEBUG", default=False)
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must not be true when FARDPLAN_ENV=production.")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
    DEBUG = env.bool("DEBUG", default=FARDPLAN_ENV == "development")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "roadmap",
    "followup",
    # The roles; each app above says in its permissions.py what they may do.
    "accounts",
]

MIDDLEWARE = [
    # /healthz answers before the host check and the HTTPS redirect (fardplan/health.py).
    "fardplan.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The idle and absolute session limits, and the log of refused requests (403).
    "accounts.middleware.SessionLimitMiddleware",
    "accounts.middleware.SecurityLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A NUL byte in the query string or form data: 400, never a server error.
    "fardplan.middleware.RejectNulBytesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a refused login of a locked-out user or address into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fardplan.urls"
WSGI_APPLICATION = "fardplan.wsgi.application"

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
                "fardplan.context_processors.navigation_counts",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'fardplan.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The server and the worker of ``make run`` write to the same file: WAL
    # lets readers go on while one writes, and a writer waits for the lock
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out user or address before the password
# is checked. Every login (the site's and the admin's) passes the request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: the users read Swedish.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish"))]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# "10 maj 2022 kl. 14.30": the dates and times of docs/sprakguide.md.
FORMAT_MODULE_PATH = ["fardplan.formats"]
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Static files are served by the app itself (whitenoise); no CDN.
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Celery: a broker URL switches to real workers; without one tasks run
# in-process, eagerly, and their errors propagate.
#
# ``make run`` (``manage.py runall``) sets CELERY_BROKER_URL=filesystem:// and
# starts a worker beside the server: kombu's filesystem transport keeps the
# queue as files under CELERY_FILESYSTEM_FOLDER (default var/celery), so no
# broker server is needed. The default with nothing set stays eager, and so do
# the tests.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_FILESYSTEM_FOLDER = Path(
        env.str("CELERY_FILESYSTEM_FOLDER", default=str(VAR_DIR / "celery"))
    )
    # One folder for every queue: producer and worker read and write the same.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_FOLDER / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_FOLDER / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_FOLDER / "control"),
        "processed_folder": str(CELERY_FILESYSTEM_FOLDER / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed"):
        (CELERY_FILESYSTEM_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# E-mail: printed to the console unless EMAIL_URL says otherwise.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # django-environ drops the leading "/" of filemail:///abs/path; paths are absolute.
    EMAIL_FILE_PATH = "/" + EMAIL_CONFIG["EMAIL_FILE_PATH"].lstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fardplan@localhost")

# A reporter's page posts six fields per obligation; a reporter for several
# districts can have over a thousand obligations.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=20000)

# The reporter page ("Mina rapporter") shows this many rows at a time: the
# rows left to do first, a page at a time, whatever the size of the roadmap.
FOLLOWUP_REPORTS_PER_PAGE = env.int("FOLLOWUP_REPORTS_PER_PAGE", default=20)

# Follow-up: reminders go out this many days before a deadline, and on the day.
FOLLOWUP_REMINDER_DAYS_BEFORE = env.list("FOLLOWUP_REMINDER_DAYS_BEFORE", cast=int, default=[7])

# PDF reports: the style sheet and fonts WeasyPrint may load (nothing else),
# and the Celery task's time limits. A job still running after the hard limit
# (plus a minute's grace) is marked failed; so is a job queued for longer than
# REPORT_QUEUE_TIMEOUT seconds without a worker taking it.
PDF_ASSETS_DIR = BASE_DIR / "static" / "pdf"
REPORT_SOFT_TIME_LIMIT = env.int("REPORT_SOFT_TIME_LIMIT", default=900)
REPORT_TIME_LIMIT = env.int("REPORT_TIME_LIMIT", default=960)
REPORT_QUEUE_TIMEOUT = env.int("REPORT_QUEUE_TIMEOUT", default=3600)
if REPORT_TIME_LIMIT <= REPORT_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("REPORT_TIME_LIMIT must be greater than REPORT_SOFT_TIME_LIMIT.")
# A rendering task writes a heartbeat to its job every REPORT_HEARTBEAT_INTERVAL
# seconds; a running job without one for REPORT_HEARTBEAT_TIMEOUT seconds lost
# its worker (killed, restarted) and is shown failed at once, and marked failed
# by the beat task that runs every REPORT_EXPIRY_INTERVAL seconds. With the
# defaults a lost rendering ends failed within 90 seconds, whatever the time limits.
REPORT_HEARTBEAT_INTERVAL = env.int("REPORT_HEARTBEAT_INTERVAL", default=10)
REPORT_HEARTBEAT_TIMEOUT = env.int("REPORT_HEARTBEAT_TIMEOUT", default=60)
REPORT_EXPIRY_INTERVAL = env.int("REPORT_EXPIRY_INTERVAL", default=30)
if REPORT_HEARTBEAT_INTERVAL < 1 or REPORT_HEARTBEAT_TIMEOUT < 2 * REPORT_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        "REPORT_HEARTBEAT_TIMEOUT must be at least twice REPORT_HEARTBEAT_INTERVAL (>= 1)."
    )
if REPORT_EXPIRY_INTERVAL < 1:
    raise ImproperlyConfigured("REPORT_EXPIRY_INTERVAL must be at least 1 second.")

# Security. The production profile passes `manage.py check --deploy`.
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

CSRF_FAILURE_VIEW = "accounts.security.csrf_failure"

# The admin's path, e.g. a less guessable one than the default; never the root.
ADMIN_URL = (env.str("ADMIN_URL", default="admin/").strip().strip("/") or "admin") + "/"

# The address of the client: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse
# proxies (each appending to X-Forwarded-For) the address the outermost one saw.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login throttling (OWASP ASVS 2.2.1), django-axes: after AXES_FAILURE_LIMIT
# failed logins for a user name, or from an address, further logins of that
# user or from that address are refused for AXES_COOLOFF_MINUTES, even with the
# right password. Both login pages (the site's and the admin's) are covered.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# "username,ip_address": each on its own; "username+ip_address": the pair.
AXES_LOCKOUT_PARAMETERS = [
    part.split("+") if "+" in part else part
    for part in env.list("AXES_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_RESET_ON_SUCCESS = True
# Trying again while locked out does not restart the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_VERBOSE = False  # accounts.security logs every failure on fardplan.security
# A successful login is not stored (the failures are).
AXES_DISABLE_ACCESS_LOG = True

# Sessions (OWASP ASVS 3.3): closed with the browser, ended after
# SESSION_COOKIE_AGE seconds without a request, and after
# SESSION_ABSOLUTE_TIMEOUT seconds since the login however active. A request
# renews the idle limit by saving the session at most once a minute, not on
# every request (accounts.middleware.SessionLimitMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=8 * 60 * 60)


def _style_hash(declaration: str) -> str:
    digest = hashlib.sha256(declaration.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# Content-Security-Policy on every response (django-csp), without
# 'unsafe-inline': scripts and styles come from static files; what must stay
# inline carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # The one style="" attribute left, in django-simple-history's admin
        # history list; allowed by its hash alone.
        "style-src-attr": ["'unsafe-hashes'", _style_hash("border-top: 0")],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"timed": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timed"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every step of every rendering at INFO.
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Failed logins, lockouts and refused requests (403), with user,
        # address, URL and time.
        "fardplan.security": {"level": "INFO"},
    },
}

# History pages are for reading: no "revert to this version". The setting only
# hides the button; fardplan.admin.AuditedModelAdmin refuses the POST.
SIMPLE_HISTORY_REVERT_DISABLED = True
# The history's change reason holds what users wrote (e.g. why an editor
# reopened a report, up to fardplan.limits.REOPEN_REASON characters): a text
# column, not the default 100 characters, which refused longer reasons.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
