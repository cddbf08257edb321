"""Tests: PostgreSQL by default (as in CI); DATABASE_URL may point elsewhere."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pypimirror")
# Never write into the developer's own var/: each test run gets its own data directory.
os.environ.setdefault("PYPIMIRROR_DATA_DIR", tempfile.mkdtemp(prefix="pypimirror-test-"))

from .base import *  # noqa: F403
from .base import _database, env

SECRET_KEY = "test-only-secret-key"
DEBUG = False
DATABASES = {"default": _database(env.str("DATABASE_URL"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a flush between tests that takes a tenth of the time (its docstring says how).
    DATABASES["default"]["ENGINE"] = "tests.support.pgbackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False

# pytest-django's live_server answers MEDIA_URL from MEDIA_ROOT before the project sees a request;
# with Django's empty defaults that is every path, served from the working directory.
MEDIA_URL = "/media/"
MEDIA_ROOT = str(DATA_DIR / "media")  # noqa: F405

# This process's memory, whatever CACHE_URL says: what one test caches (pages, the network's
# status, the API's throttle counts) is seen by no other test process, and tests/conftest.py
# empties it before each test.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pypimirror-test",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}
