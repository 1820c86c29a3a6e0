"""Settings for HVB-registret, read from the environment (see .env.example)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_cache, env_choice, env_int, env_list, env_str
from config.replicas import replica_databases

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# The fallback key is for development only; `manage.py check --deploy` flags it (security.W009).
SECRET_KEY = env_str(
    "SECRET_KEY", "django-insecure-development-key-do-not-use-in-production-hvb-registret"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The legal line of DESIGN.md: both off until the proposed 4 kap. 3 a § and 3 d § SoF apply.
PERSONAL_DATA_DISCLOSURE = env_bool("PERSONAL_DATA_DISCLOSURE", False)
DECISION_RELEASE = env_choice("DECISION_RELEASE", "on_request", ("on_request", "automatic"))

# The API and open data (api/).
# Public resources (no personal data) readable without a token; off: every API call needs one.
API_OPEN_DATA = env_bool("API_OPEN_DATA", True)
# Requests a minute per API client (per address for calls without a token).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 120)
API_TOKEN_VALIDITY_DAYS = env_int("API_TOKEN_VALIDITY_DAYS", 365)
# An interactive API query stops after this long, so one heavy request cannot hold a worker.
API_QUERY_TIMEOUT_MS = env_int("API_QUERY_TIMEOUT_MS", 1000)
# Measurement switches (issue 17): each turns one piece of speed machinery off, so
# bench/api_load.py can measure what it gains in the same run.
OPEN_DATA_LICENSE_URL = env_str(
    "OPEN_DATA_LICENSE_URL", "http://creativecommons.org/licenses/by/4.0/"
)
OPEN_DATA_LICENSE_NAME = env_str("OPEN_DATA_LICENSE_NAME", "CC BY 4.0")
# The publisher in the DCAT-AP-SE catalogue: http://dataportal.se/organisation/SE<orgnr>.
OPEN_DATA_PUBLISHER_ORGANISATION_NUMBER = env_str(
    "OPEN_DATA_PUBLISHER_ORGANISATION_NUMBER", "2021006354"
)
OPEN_DATA_PUBLISHER_NAME = env_str("OPEN_DATA_PUBLISHER_NAME", "Inspektionen för vård och omsorg")
OPEN_DATA_CONTACT_EMAIL = env_str("OPEN_DATA_CONTACT_EMAIL", "registrator@ivo.se")
# The site's public address, for absolute IRIs in the catalogue; empty: the request's host.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "").rstrip("/")

LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "portal:search"

# Frilistning and one-time login (access/services.py).
ALLOWLIST_VALIDITY_DAYS = env_int("ALLOWLIST_VALIDITY_DAYS", 365)
ALLOWLIST_REMINDER_DAYS = env_int("ALLOWLIST_REMINDER_DAYS", 30)
LOGIN_TOKEN_MINUTES = 15
# Requests for a login mail, per 15 minutes: for one address from one IP address (a stranger
# elsewhere cannot use up the owner's), and from one IP address in all. A whole municipality may
# share one outgoing address: the per-IP limit is generous. docs/security.md has the reasoning.
LOGIN_RATE_WINDOW_MINUTES = 15
LOGIN_RATE_PER_ADDRESS = env_int("LOGIN_RATE_PER_ADDRESS", 5)
LOGIN_RATE_PER_IP = env_int("LOGIN_RATE_PER_IP", 200)
# Wrong six-digit codes: per code, then per address, per IP address and in all over the last
# 24 hours. Past a cap no code is compared; the link in the mail still works.
# LOGIN_CODE_FAILURES_TOTAL=0 turns login by code off.
LOGIN_CODE_ATTEMPTS = env_int("LOGIN_CODE_ATTEMPTS", 5)
LOGIN_CODE_FAILURES_PER_ADDRESS = env_int("LOGIN_CODE_FAILURES_PER_ADDRESS", 10)
LOGIN_CODE_FAILURES_PER_IP = env_int("LOGIN_CODE_FAILURES_PER_IP", 30)
LOGIN_CODE_FAILURES_TOTAL = env_int("LOGIN_CODE_FAILURES_TOTAL", 300)
# Sessions end after inactivity and after an absolute time (access/middleware.py).
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS

# Mail: the console in development, SMTP elsewhere.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "HVB-registret <noreply@hvb-registret.ivo.se>")

INSTALLED_APPS = [
    # Before the admin: its templates/admin/base_site.html gives the back office the staff
    # workplace's header and menu (access/templates/admin/).
    "access.apps.AccessConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "csp",
    "register",
    "portal",
    "documents",
    "linking",
    "alerts",
    "stats",
    "django_tasks",
    "django_tasks_db",
    "api",
    # Health, metrics, request ids, backup and restore (docs/operations.md).
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-ninja's own 405 as problem+json, like every other API error (api/middleware.py).
    "api.middleware.MethodNotAllowedProblemMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Swedish unless the visitor chose English; the API follows Accept-Language
    # (config/language.py).
    "config.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends sessions on idle and absolute time, and at once when an allowlist entry ends.
    "access.middleware.AccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Puts the signed-in user on every history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "access.context_processors.access_links",
                "alerts.context_processors.alerts",
            ],
        },
    },
]

# SQLite by default (zero set-up), PostgreSQL in production through DATABASE_URL.
DATABASES = {
    # Kept open between requests (and checked before reuse): opening an SQLite file and setting
    # its pragmas, or a PostgreSQL connection, cost more than most API requests' own work.
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
        # instead of one failing with "database is locked" when it upgrades a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or None}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer (a host that drops packets) fails a connection within this
    # many seconds instead of holding a request, or /readyz's check, until gunicorn's timeout.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
    }

# The access log (access/models.py AccessEvent). On SQLite it gets a file of its own, so that
# logging a read never queues on the register's single write lock. Each entry is committed before
# the response leaves. In WAL mode synchronous=NORMAL keeps it through a crash of the process;
# FULL also through a power cut, at the cost of an fsync per page view (2.8 ms of the 3.7 ms an
# entry cost on the benchmark machine's busy disk). On PostgreSQL the main database serves (an
# entry written inside a transaction of the register is part of it: access/log.py).
_access_log_url = env_str("ACCESS_LOG_DATABASE_URL", "")
if not _access_log_url and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _access_log_url = f"sqlite:///{BASE_DIR / 'accesslog.sqlite3'}"
if _access_log_url:
    # Kept open between requests: opening the file and setting its pragmas cost three times
    # the insert itself (bench/access_log_load.py).
    DATABASES["accesslog"] = dj_database_url.parse(
        _access_log_url, conn_max_age=env_int("ACCESS_LOG_CONN_MAX_AGE", 600)
    )
    if DATABASES["accesslog"]["ENGINE"] == "django.db.backends.sqlite3":
        _access_log_sync = env_choice("ACCESS_LOG_SQLITE_SYNCHRONOUS", "NORMAL", ("NORMAL", "FULL"))
        DATABASES["accesslog"]["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": f"PRAGMA journal_mode=WAL;PRAGMA synchronous={_access_log_sync};",
        }
        DATABASES["accesslog"]["TEST"] = {
            "NAME": env_str("TEST_ACCESS_LOG_DATABASE_NAME", "") or None
        }
    ACCESS_LOG_DATABASE = "accesslog"
else:
    ACCESS_LOG_DATABASE = "default"
# On PostgreSQL the same promise as SQLite's NORMAL by default: an entry is committed before the
# response leaves and kept through a crash of the process that served it, but its commit does not
# wait for the WAL to reach the disk (synchronous_commit off for that statement alone; a crash of
# the database server or a power cut may lose the last fraction of a second of entries, at most
# 3 x wal_writer_delay). "on": one WAL flush per entry, as FULL on SQLite. The register's own
# writes always wait for their flush, and so does an entry written inside one of its
# transactions (committed with it).
ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT = env_choice(
    "ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT", "off", ("off", "on")
)
# Django's cache. The API's rate limit counts in it (api/auth.py), so it must be one every
# process shares: in memory of each process (locmem://) each would count on its own, and the
# limit would hold as many times over as there are processes. The database cache by default
# (its table made by migrate_all, in the access log's database: config/routers.py), Redis where
# there is one (CACHE_URL=redis://host:6379/0, with the redis package).
CACHES = {"default": env_cache("CACHE_URL", "db://django_cache")}
if CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
    # One entry per API caller of the last minute. At Django's default of 300 the cache would
    # start dropping live counts (a third of the entries at a time) once more callers than that
    # were active; Redis has no such limit of its own.
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 5000}
# The worker's queue (alerts.delivery): Django's tasks framework with its database backend, in the
# register's database, so a task is queued in the transaction of the write that makes it.
# Production runs `manage.py run_worker` beside the site (README; docs/architecture.md).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["alerts"],
    }
}
# Notices (alerts.delivery): a mail refused by the SMTP server is tried again after
# NOTICE_RETRY_SECONDS, then twice that, and so on, NOTICE_MAIL_ATTEMPTS times in all; a worker
# holds a mail it sends for NOTICE_LEASE_SECONDS (a killed worker's mails go after that); the
# sweep runs every NOTICE_SWEEP_SECONDS; the daily summary goes at NOTICE_DIGEST_HOUR.
NOTICE_RETRY_SECONDS = env_int("NOTICE_RETRY_SECONDS", 60)
NOTICE_MAIL_ATTEMPTS = env_int("NOTICE_MAIL_ATTEMPTS", 8)
NOTICE_LEASE_SECONDS = env_int("NOTICE_LEASE_SECONDS", 600)
NOTICE_SWEEP_SECONDS = env_int("NOTICE_SWEEP_SECONDS", 30)
NOTICE_DIGEST_HOUR = env_int("NOTICE_DIGEST_HOUR", 7)

# Read replicas (PostgreSQL): DATABASE_REPLICA_URLS (config/routers.py, docs/operations.md).
# Hot standbys of the primary, comma-separated, as aliases replica_1, replica_2…; requests that
# may read a second-old register read from one of them (config/replicas.py says which). A client
# that wrote reads the primary for DATABASE_REPLICA_PIN_SECONDS; a replica more than
# DATABASE_REPLICA_MAX_LAG_SECONDS behind the primary is not read (below the pin window, or a
# client could read its own write's old state from a replica that lags within the pin); one that
# does not answer is left out for DATABASE_REPLICA_RETRY_SECONDS.
_replicas = replica_databases(env_list("DATABASE_REPLICA_URLS", []), DATABASES["default"])
DATABASES.update(_replicas)
DATABASE_REPLICAS = list(_replicas)
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 5)
DATABASE_REPLICA_RETRY_SECONDS = env_int("DATABASE_REPLICA_RETRY_SECONDS", 5)
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 2)
if not 0 < DATABASE_REPLICA_MAX_LAG_SECONDS < DATABASE_REPLICA_PIN_SECONDS:
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_MAX_LAG_SECONDS must be at least 1 and below "
        f"DATABASE_REPLICA_PIN_SECONDS ({DATABASE_REPLICA_PIN_SECONDS}), "
        f"not {DATABASE_REPLICA_MAX_LAG_SECONDS}"
    )
DATABASE_ROUTERS = ["config.routers.CacheRouter", "access.routers.AccessLogRouter"]
if DATABASE_REPLICAS:
    DATABASE_ROUTERS.append("config.routers.ReplicaRouter")
    MIDDLEWARE.insert(
        MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
        "config.replicas.ReplicaMiddleware",
    )
# Off only in bench/, to measure what the log costs; a deployment never turns it off.
ACCESS_LOG_ENABLED = env_bool("ACCESS_LOG_ENABLED", True)
# How long access-log entries are kept (prune_access_log); health care's log rules ask 5 years.
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 5 * 365)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Linking case records to facilities (linking/matching.py). A candidate's score is 0–100. At or
# above LINKING_AUTO_THRESHOLD, and LINKING_AUTO_MARGIN points ahead of the next candidate, with
# evidence beyond the name, the link is made automatically; from LINKING_REVIEW_THRESHOLD the
# record goes to the registrators' review queue; below it, it is flagged unmatched.
LINKING_AUTO_THRESHOLD = env_int("LINKING_AUTO_THRESHOLD", 85)
LINKING_AUTO_MARGIN = env_int("LINKING_AUTO_MARGIN", 15)
LINKING_REVIEW_THRESHOLD = env_int("LINKING_REVIEW_THRESHOLD", 40)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# Each app keeps its translations in <app>/locale/en/LC_MESSAGES/django.po; the .mo files are
# compiled from them at install (Makefile) and never committed.
LOCALE_PATHS: list = []
# English dates in British form (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_NAME = "sprak"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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
WHITENOISE_USE_FINDERS = DEBUG

# Decision documents (documents/): never served from a public URL, only through views that
# check who asks. A local folder by default; DOCUMENTS_STORAGE=s3 for an S3-compatible store
# through django-storages (the bucket private, links signed and short-lived).
DOCUMENTS_ROOT = env_str("DOCUMENTS_ROOT", str(BASE_DIR / "media" / "documents"))
if env_choice("DOCUMENTS_STORAGE", "local", ("local", "s3")) == "s3":
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("DOCUMENTS_S3_BUCKET", ""),
            "endpoint_url": env_str("DOCUMENTS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("DOCUMENTS_S3_REGION", "") or None,
            "access_key": env_str("DOCUMENTS_S3_ACCESS_KEY", ""),
            "secret_key": env_str("DOCUMENTS_S3_SECRET_KEY", ""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_expire": 60,
        },
    }
else:
    STORAGES["documents"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DOCUMENTS_ROOT, "base_url": None},
    }
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# Import files (register/imports.py): checked before they are read. The size of the file; the
# rows after the header (reading stops at the first one past it); and, for an XLSX, its parts
# unpacked together (a 1.7 MB zip can unpack to 1.5 GB; 100,000 decisions as XLSX unpack to
# about 70 MB).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
# Uploads larger than this go to a temporary file rather than memory; a file larger than
# DOCUMENT_MAX_BYTES is skipped while it arrives (documents/uploads.py).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "documents.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Security: production values by default; development relaxes them through DEBUG.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health, readiness and metrics answer over plain HTTP too: a load balancer, the container's
# HEALTHCHECK and Prometheus ask the application directly, not through the TLS proxy, and a
# redirect to https:// would read as "down". They carry no cookie and no secret
# (docs/operations.md, "TLS, the reverse proxy and static files").
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# A form posted without a valid token: the site's own page, in its design (portal/errors.py).
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): our own scripts and styles only, nothing inline, no
# framing, forms post only to us. The pages need nothing else (tests/browser checks for
# violations).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Behind our own TLS proxy, its X-Forwarded-* headers are trusted (only their last hop: the one
# the proxy added); otherwise a forged X-Forwarded-For is ignored (access log, login lockout).
TRUSTED_PROXY_HEADER = env_bool("BEHIND_TLS_PROXY", False)
if TRUSTED_PROXY_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs to standard error, one JSON object a line (python-json-logger) unless LOG_FORMAT=text
# (the default with DEBUG); every line carries the request's id (config/request_id.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Federated login: OpenID Connect (access/oidc.py) ---
# One identity provider; a municipality switches to it in access.models.MunicipalityLogin, and the
# allowlist still decides who gets in. Off while any of the client id, secret or endpoints is unset.
INSTALLED_APPS += ["mozilla_django_oidc"]
AUTHENTICATION_BACKENDS = [
    *globals().get("AUTHENTICATION_BACKENDS", ["django.contrib.auth.backends.ModelBackend"]),
    "access.oidc.MunicipalOIDCBackend",
]
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email")
# A claim naming the user's municipality (four-digit SCB code); when sent, it must match the
# allowlist entry's municipality.
OIDC_MUNICIPALITY_CLAIM = env_str("OIDC_MUNICIPALITY_CLAIM", "")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
# No token is kept in the session.
OIDC_STORE_ACCESS_TOKEN = False
OIDC_STORE_ID_TOKEN = False
TEMPLATES[0]["OPTIONS"]["context_processors"].append("access.oidc_context.oidc_login")

# --- IVO staff login: django-otp and django-axes (access/staff_views.py) ---
# IVO's staff sign in with password and a TOTP code; the back office (Django admin) is open only
# to a session verified that way whose role has the back-office permission.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "axes"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("access.middleware.AccessMiddleware") + 1,
    "access.staff_views.BackOfficeMiddleware",
)
# Last, as django-axes asks: it turns a lockout into the lockout page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    # First: a locked-out username and address are refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    *globals().get("AUTHENTICATION_BACKENDS", ["django.contrib.auth.backends.ModelBackend"]),
    # The back office's model permissions, from the role (access/roles.py).
    "access.backends.RoleBackend",
]
OTP_TOTP_ISSUER = "HVB-registret"
# The TOTP secret is never shown in the register administration, not even to a superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Lockout: the pair of username and address, never the address alone (a municipality's or IVO's
# whole staff can share one outgoing address), for a finite time.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5)
STAFF_LOGIN_COOLOFF_MINUTES = env_int("STAFF_LOGIN_COOLOFF_MINUTES", 30)
AXES_COOLOFF_TIME = STAFF_LOGIN_COOLOFF_MINUTES / 60  # django-axes reads a float as hours
# The address as the access log sees it: REMOTE_ADDR, or behind our own proxy only the last hop
# of X-Forwarded-For, so a forged header does not start a fresh count.
AXES_CLIENT_IP_CALLABLE = "access.log.client_ip"
# Attempts without a username (federated login) would lock out the address alone.
AXES_WHITELIST_CALLABLE = "access.staff_views.axes_not_counted"
AXES_LOCKOUT_CALLABLE = "access.staff_views.locked_out"
# Failures during a lockout do not extend it, so the time the lockout page gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Masked in django-axes' records, as the password is: the one-time code.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
# No start-up banner on every command; failures are still logged (as warnings).
AXES_VERBOSE = False

# --- Operations: health, readiness, metrics, logs (operations/, docs/operations.md) ---
# The request id first, so that everything after it logs with it; the metrics right after, so
# that they time the rest.
MIDDLEWARE = [
    "operations.middleware.RequestIdMiddleware",
    "operations.middleware.MetricsMiddleware",
    *MIDDLEWARE,
]
# Who may ask /readyz and scrape /metrics (the load balancer, Prometheus): networks in CIDR form,
# checked against REMOTE_ADDR alone (a request that came through a proxy is refused;
# operations/metrics.py). Loopback only by default.
OPERATIONS_ALLOWED_NETWORKS = env_list("OPERATIONS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
# SECURE_REDIRECT_EXEMPT (above, beside SECURE_SSL_REDIRECT) lets the load balancer and
# Prometheus reach these over plain HTTP.
# prometheus_client reads PROMETHEUS_MULTIPROC_DIR from the environment itself (gunicorn's
# workers add up their counts there; operations/metrics.py); named here for .env.example.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
