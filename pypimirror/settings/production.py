"""Production: PostgreSQL, Redis, S3 or local disk; everything from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, STORAGES, env

if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY for the production settings.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# PYPIMIRROR_S3_BUCKET moves the blob store to S3 through django-storages; same code path.
if bucket := env.str("PYPIMIRROR_S3_BUCKET", default=""):
    STORAGES["blobs"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "file_overwrite": True,
            "querystring_auth": False,
        },
    }
