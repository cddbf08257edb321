"""Settings shared by every profile; everything a deployment changes comes from the environment."""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("PYPIMIRROR_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
STORE_DIR = DATA_DIR / "store"
TMP_DIR = DATA_DIR / "tmp"
# The whole-index documents (/simple/ and XML-RPC list_packages_with_serial): one current copy
# each, on a local disk all the node's processes share (apps/index/documents).
PYPIMIRROR_INDEX_DIR = Path(
    env.str("PYPIMIRROR_INDEX_DIR", default=str(DATA_DIR / "index"))
).resolve()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The absolute URL clients see, without a trailing slash; file URLs are built from it. Empty means
# "the scheme and host of each request".
PYPIMIRROR_BASE_URL = env.str("PYPIMIRROR_BASE_URL", default="").rstrip("/")
# A path prefix such as "/_store/": files are then sent by nginx via X-Accel-Redirect from an
# internal location aliased to the store directory (see apps/index/views/files.py).
PYPIMIRROR_X_ACCEL_REDIRECT = env.str("PYPIMIRROR_X_ACCEL_REDIRECT", default="")

# The domain: models, services, upstream clients, tasks and commands. Every process needs them.
# A process with the domain apps alone (PYPIMIRROR_APPS=domain, `manage.py sync`) must not import
# a framework app, Celery, or the project's web and worker modules (admin.py, api.py, urls.py,
# tasks.py, schedules.py, views, pypimirror/celery.py ...) at module level: ruff enforces it
# (TID253 in pyproject.toml; README, "Which modules the sync process imports").
DOMAIN_APPS = ["apps.catalog", "apps.index", "apps.replication"]
# What the web process, beat and most commands need besides: the admin and its users, the REST
# API, the schedules. PYPIMIRROR_APPS=domain leaves them out: manage.py sets it for the commands
# that need only the domain (`sync`), which then do a quarter less work for a no-op
# (django-celery-beat alone imports Celery and loads some 600 time zones).
FRAMEWORK_APPS = [
    "pypimirror.apps.AdminConfig",  # django.contrib.admin, its ModelAdmins found on first use
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here: no CDN
    "django_celery_beat",
    "axes",  # limits on admin logins, below
    # The mirror network (the hub's registry, probes, reports and their API): the sync process
    # has no use for it.
    "apps.network",
    # Verify (the store re-hashed against the catalog, its runs and findings): run by its
    # command and the workers, never by the sync process.
    "apps.verification",
]
APP_SETS = {"all": FRAMEWORK_APPS + DOMAIN_APPS, "domain": DOMAIN_APPS}
_app_set = env.str("PYPIMIRROR_APPS", default="all")
if _app_set not in APP_SETS:
    raise ImproperlyConfigured(
        f"PYPIMIRROR_APPS must be one of {', '.join(APP_SETS)}, not {_app_set!r}"
    )
INSTALLED_APPS = APP_SETS[_app_set]

MIDDLEWARE = [
    # First: times every request, by view, for /metrics (pypimirror/metrics.py).
    "pypimirror.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # 400 for a NUL in the path, query or cookies: PostgreSQL text cannot hold one (a 500).
    "pypimirror.middleware.ClientInputMiddleware",
    # Serves the admin's static files from STATIC_ROOT with DEBUG off; nginx may take over.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # GZipMiddleware that leaves stored files (byte ranges, already compressed) alone.
    "apps.index.ranges.RangeAwareGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for too many failures into the lockout page (below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pypimirror.urls"
WSGI_APPLICATION = "pypimirror.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's lockout page (AXES_LOCKOUT_TEMPLATE).
        "DIRS": [BASE_DIR / "pypimirror" / "templates"],
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


def _database(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the web server read while a worker writes; IMMEDIATE avoids lock upgrades
        # failing half-way through a write transaction.
        config.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=wal; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            }
        )
    # Connections are kept between requests (opening one, with SQLite's pragmas, costs more than
    # a whole cached page). No health check: it costs a round trip on every request, and Django
    # already drops a connection that failed during the previous one.
    config.setdefault("CONN_MAX_AGE", 60)
    config.setdefault("CONN_HEALTH_CHECKS", False)
    pool = env.int("PYPIMIRROR_DB_POOL", default=0)
    if pool and config["ENGINE"] == "django.db.backends.postgresql":
        # A gevent web worker serves hundreds of clients at once, each in a greenlet with its
        # own connection: without a bound, 200 clients on 5 workers ask PostgreSQL for more
        # connections than it allows (max_connections, 100 by default) and the rest get 500s.
        # With a pool of that many per process, a request waits for a free connection instead
        # (deploy/gunicorn.conf.py sets it for gevent workers). Pooled connections are
        # returned at the end of each request, so none is kept by Django itself.
        # Each connection is checked as it is taken from the pool (one round trip; Django's
        # health checks do it so): after a restart of PostgreSQL every pooled connection is
        # dead, and each would otherwise fail a request.
        config["CONN_MAX_AGE"] = 0
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool,
            "timeout": env.float("PYPIMIRROR_DB_POOL_TIMEOUT", default=10.0),
        }
    return config


DATABASES = {
    "default": _database(env.str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://pypimirror")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Rendered pages are cached per (project, serial, format): room for a few thousand projects.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 20000)

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    # The content-addressed blob store (packages/<h[:2]>/<h[2:4]>/<h[4:]>/<filename>).
    "blobs": {
        "BACKEND": "apps.catalog.storage.BlobFileSystemStorage",
        "OPTIONS": {"location": str(STORE_DIR)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Logins (the admin's form, DRF's session login) limited by django-axes, per user name and per
# client address apart: after PYPIMIRROR_LOGIN_FAILURE_LIMIT failures in a row either is locked
# out, the right password included, for PYPIMIRROR_LOGIN_COOLOFF_MINUTES (each attempt while
# locked starts the wait anew); a successful login resets the count. Staff unlock in the admin
# (Axes -> Access attempts: delete the row) or with `manage.py axes_reset_username NAME`,
# `axes_reset_ip ADDRESS` or `axes_reset` (everything). README, "Admin logins".
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("PYPIMIRROR_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("PYPIMIRROR_LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"
AXES_CLIENT_IP_CALLABLE = "pypimirror.client_ip.request_client_address"
# Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks, and
# "unix" for a peer on a unix socket, as nginx is in deploy/): none by default, so nobody can
# choose the address their failures count against (pypimirror/client_ip.py).
PYPIMIRROR_TRUSTED_PROXIES = env.list("PYPIMIRROR_TRUSTED_PROXIES", default=[])
for _proxy in PYPIMIRROR_TRUSTED_PROXIES:
    if _proxy != "unix":
        try:
            ipaddress.ip_network(_proxy, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(f"PYPIMIRROR_TRUSTED_PROXIES: {exc}") from None

# Who may read /metrics (Prometheus; pypimirror/metrics.py): comma-separated addresses or
# networks, the client's address told as for the login limits above (X-Forwarded-For only from
# PYPIMIRROR_TRUSTED_PROXIES). Loopback by default; the figures hold no secret, but they tell
# what the node mirrors and how busy it is.
PYPIMIRROR_METRICS_ALLOW = env.list("PYPIMIRROR_METRICS_ALLOW", default=["127.0.0.0/8", "::1"])
for _network in PYPIMIRROR_METRICS_ALLOW:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"PYPIMIRROR_METRICS_ALLOW: {exc}") from None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Times to the second (a sync's runs and files are seconds apart): pypimirror/formats/.
FORMAT_MODULE_PATH = ["pypimirror.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Anonymous clients only (a mirror's token, a staff session are not throttled); the index's
    # pages are no part of the API and set no throttle (apps/index/views/simple.py).
    # Counted per client address, found as for the login limits (PYPIMIRROR_TRUSTED_PROXIES).
    "DEFAULT_THROTTLE_CLASSES": ["pypimirror.throttling.AnonRateThrottle"],
}
# Requests an anonymous client may make to /api/ (DRF's rate: "120/minute", "5000/hour"),
# counted in the cache (CACHE_URL): per gunicorn worker with the default memory cache, across
# workers with a shared Redis. Read on each request (pypimirror.throttling).
PYPIMIRROR_API_ANON_RATE = env.str("PYPIMIRROR_API_ANON_RATE", default="120/minute")

SPECTACULAR_SETTINGS = {
    "TITLE": "pypimirror API",
    "DESCRIPTION": "The mirror network (mirrors, their probes and reports, the best mirror for "
    "a client, the network's status), this node's sync runs, its verify runs and their "
    "findings, and its takedowns (staff only). Read-only for everyone; a mirror posts its own "
    "reports with its token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API only: the index's pages (/simple/ ...) are PEP 503/691, not this API.
    "PREPROCESSING_HOOKS": ["pypimirror.api.schema_api_paths_only"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a "state": name each enum, or the schema gets numbered names.
    "ENUM_NAME_OVERRIDES": {
        "SyncRunStateEnum": "apps.replication.models.SyncRun.State",
        "ReportStateEnum": "apps.network.models.StatusReport.State",
        "VerifyRunStateEnum": "apps.verification.models.VerifyRun.State",
        "FindingKindEnum": "apps.verification.models.Finding.Kind",
        "FindingBlobEnum": "apps.verification.models.Finding.Blob",
        "FindingRepairEnum": "apps.verification.models.Finding.Repair",
        "TakedownScopeEnum": "apps.catalog.models.Takedown.Scope",
        "MirrorScopeEnum": ["country", "continent", "world"],  # best mirror: how far it looked
    },
}

# Celery: the embedded default broker is a SQLite file, so no server is needed.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when done, and handed back to the broker when its worker process dies
# (SIGKILL, OOM): a killed worker's project batch comes again (batches are idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis: a message taken by a worker that died whole (parent included) and never acknowledged
# goes back to the queue after this many seconds. Longer than a batch of projects takes (a
# batch outliving it is delivered twice, harmlessly, but its work is done twice), short enough
# that a dead worker's batches come back well within the hour Celery waits by default.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=1800)
if CELERY_BROKER_URL.startswith(("redis:", "rediss:", "sentinel:")):
    # Redis's alone: the embedded SQLite transport hands its options to SQLAlchemy's engine.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
# Celery's Django fix-up closes the database connection around every task unless told to reuse
# it; a sync is one task per project, so that would be one new connection per project.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every URL logged has its credentials masked (apps/replication/redaction.py).
    "filters": {"redact_urls": {"()": "apps.replication.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_urls"]}},
    "root": {
        "handlers": ["console"],
        "level": env.str("PYPIMIRROR_LOG_LEVEL", default="INFO"),
    },
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # one line per request is noise at mirror scale; failures are reported by the sync
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes says its version at every start of every process; its lockouts still show
        "axes.apps": {"level": "WARNING"},
    },
}

PYPIMIRROR_USER_AGENT = "pypimirror/0.1 (+https://github.com/pypimirror)"

# Replication
PYPIMIRROR_HTTP_TIMEOUT = env.float("PYPIMIRROR_HTTP_TIMEOUT", default=60.0)
PYPIMIRROR_SYNC_CONCURRENCY = env.int("PYPIMIRROR_SYNC_CONCURRENCY", default=8)
# Helper processes of `sync` in-process (apps/replication/fetch_helpers.py): CPUs - 1, at most 2.
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
PYPIMIRROR_SYNC_HELPERS = env.int("PYPIMIRROR_SYNC_HELPERS", default=max(0, min(2, _CPUS - 1)))
# A Celery worker process reads up to this many projects of its batch upstream at once (threads,
# as many as help: apps/replication/fetch_ahead.py) while it publishes what is read. bin/run's 2
# processes: 16 projects at once, twice `sync --in-process`'s 8.
PYPIMIRROR_WORKER_SYNC_THREADS = env.int("PYPIMIRROR_WORKER_SYNC_THREADS", default=8)
# `sync` following a run on the workers gives up on it when for this many seconds no project
# finished, no lease of its projects was taken or renewed (live workers renew theirs every 30 s)
# and no live worker has a task of it: the run ends partial and names the projects it lost.
PYPIMIRROR_SYNC_STALL_TIMEOUT = env.float("PYPIMIRROR_SYNC_STALL_TIMEOUT", default=60.0)
# A page older than the listing (a lagging CDN) is asked again this often, waiting 1, 2, 4... s.
PYPIMIRROR_SYNC_MAX_ATTEMPTS_STALE = env.int("PYPIMIRROR_SYNC_MAX_ATTEMPTS_STALE", default=3)
PYPIMIRROR_SYNC_STALE_BACKOFF = env.float("PYPIMIRROR_SYNC_STALE_BACKOFF", default=1.0)
PYPIMIRROR_SYNC_INTERVAL_MINUTES = env.int("PYPIMIRROR_SYNC_INTERVAL_MINUTES", default=10)
# Files larger than this are refused when the upstream does not list a size (PyPI's limit is
# about 1 GB per file for most projects; some have 10 GB).
PYPIMIRROR_MAX_FILE_SIZE = env.int("PYPIMIRROR_MAX_FILE_SIZE", default=20 * 1024**3)
# PEP 792 statuses the upstream changes without a serial (PyPI archives with none) are re-read
# by a periodic task, one 24th of each upstream's projects an hour, at most this many project
# pages a second per upstream.
PYPIMIRROR_STATUS_REREAD_RATE = env.float("PYPIMIRROR_STATUS_REREAD_RATE", default=5.0)

# Joining a network: with both set, this node reports its state (syncing / idle / failed /
# paused, its serials, software and free disk) to the hub after every sync run and every 10
# minutes (apps/replication/hub_report.py). The hub's base URL, and the token its
# `manage.py mirror_add` printed for this node (never logged nor shown).
PYPIMIRROR_HUB_URL = env.str("PYPIMIRROR_HUB_URL", default="")
PYPIMIRROR_HUB_TOKEN = env.str("PYPIMIRROR_HUB_TOKEN", default="")

# The mirror network (apps/network/): a mirror failing this many probes in a row is disabled, and
# enabled again after as many good ones (health.availability_decision).
PYPIMIRROR_NETWORK_DISABLE_AFTER = env.int("PYPIMIRROR_NETWORK_DISABLE_AFTER", default=4)
# How long probes and status reports are kept: the defaults of the network settings staff edit in
# the admin (NetworkSettings); a daily task prunes older ones.
PYPIMIRROR_NETWORK_PROBE_RETENTION_DAYS = env.int(
    "PYPIMIRROR_NETWORK_PROBE_RETENTION_DAYS", default=30
)
PYPIMIRROR_NETWORK_REPORT_RETENTION_DAYS = env.int(
    "PYPIMIRROR_NETWORK_REPORT_RETENTION_DAYS", default=30
)
# Probing the mirrors (apps/network/probe_runs.py): each probe of a URL is bounded by the timeout
# (seconds, all its requests together), at most CONCURRENCY probes and connections run at once;
# each probe reads the pages of the hub's SAMPLE_PROJECTS most recently changed projects and
# fetches the SAMPLE_FILES newest of their files no larger than MAX_FILE_BYTES. The hourly run
# (django-celery-beat, editable) starts after a random delay of up to JITTER seconds.
PYPIMIRROR_NETWORK_PROBE_TIMEOUT = env.float("PYPIMIRROR_NETWORK_PROBE_TIMEOUT", default=60.0)
PYPIMIRROR_NETWORK_PROBE_CONCURRENCY = env.int("PYPIMIRROR_NETWORK_PROBE_CONCURRENCY", default=20)
PYPIMIRROR_NETWORK_PROBE_SAMPLE_PROJECTS = env.int(
    "PYPIMIRROR_NETWORK_PROBE_SAMPLE_PROJECTS", default=3
)
PYPIMIRROR_NETWORK_PROBE_SAMPLE_FILES = env.int("PYPIMIRROR_NETWORK_PROBE_SAMPLE_FILES", default=3)
PYPIMIRROR_NETWORK_PROBE_MAX_FILE_BYTES = env.int(
    "PYPIMIRROR_NETWORK_PROBE_MAX_FILE_BYTES", default=50 * 1024**2
)
PYPIMIRROR_NETWORK_PROBE_JITTER = env.int("PYPIMIRROR_NETWORK_PROBE_JITTER", default=300)

# Mail (a mirror disabled or enabled again is told to its admin and the staff): printed on the
# console unless EMAIL_BACKEND says otherwise (django.core.mail.backends.smtp.EmailBackend with
# EMAIL_HOST..., or .filebased.EmailBackend with EMAIL_FILE_PATH). ADMINS: comma-separated
# addresses that hear of it besides the staff users with an e-mail.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="pypimirror@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ADMINS = [("", address) for address in env.list("PYPIMIRROR_ADMINS", default=[])]
