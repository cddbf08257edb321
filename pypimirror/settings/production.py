"""Production: PostgreSQL, Redis, S3 or local disk; everything from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import PYPIMIRROR_X_ACCEL_REDIRECT, SECRET_KEY, STORAGES, env

if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY for the production settings.")

# Behind a TLS proxy (deploy/nginx): it says in this header whether the client used https, and
# sets it on every request, so no client can choose its value. Empty when nothing is in front.
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Plain http is redirected to https, except the probes (/healthz, /readyz) and /metrics, which a
# load balancer, monitor or Prometheus may send straight to the node; false only for a plain-http
# setup.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# HSTS on https responses: browsers then use nothing but https for this host for a year. Try a
# few minutes (300) first on a new host; 0 turns it off. nginx sends the same (deploy/nginx).
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# PYPIMIRROR_S3_BUCKET moves the blob store to S3 through django-storages; same code path
# (apps/catalog/storage_s3.py). Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY, a profile, an instance role), never from a setting of ours, so no
# page or error of the node can show them.
if bucket := env.str("PYPIMIRROR_S3_BUCKET", default=""):
    if PYPIMIRROR_X_ACCEL_REDIRECT:
        raise ImproperlyConfigured(
            "PYPIMIRROR_X_ACCEL_REDIRECT sends files from the local store; with "
            "PYPIMIRROR_S3_BUCKET leave it unset (PYPIMIRROR_S3_SERVE says how files are sent)."
        )
    _serve = env.str("PYPIMIRROR_S3_SERVE", default="redirect")
    if _serve not in ("redirect", "stream"):
        raise ImproperlyConfigured(f"PYPIMIRROR_S3_SERVE is redirect or stream, not {_serve!r}.")
    STORAGES["blobs"] = {
        "BACKEND": "apps.catalog.storage_s3.BlobS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env.str("PYPIMIRROR_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("PYPIMIRROR_S3_REGION", default="") or None,
            "addressing_style": env.str("PYPIMIRROR_S3_ADDRESSING_STYLE", default="") or None,
            "serve": _serve,
            "url_expiry": env.int("PYPIMIRROR_S3_URL_EXPIRY", default=300),
        },
    }
