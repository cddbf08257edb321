"""Is this node ready to serve? One check per part it needs: database, blob store, broker.

Each check returns None when the part answers, else a short reason. Reasons are shown to
whoever asks ``/readyz`` (a load balancer, an operator), so the credentials of the configured
URLs are taken out of them; the full error goes to the log.
"""

import logging
import os
import tempfile
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection

from apps.catalog.blobstore import blob_storage

logger = logging.getLogger(__name__)

# Seconds a check may wait for its part: a probe must answer before the prober gives up.
TIMEOUT = 3.0
REASON_MAX = 300


def database_check() -> None:
    """A trivial query on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def store_check() -> None:
    """The blob store can be listed; on local disk, a file can also be created in it."""
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        # The directory appears with the first blob (as the storage would make it); a file or
        # an unwritable filesystem in its place fails here, even for root.
        os.makedirs(storage.location, exist_ok=True)
        with tempfile.TemporaryFile(dir=storage.location, prefix=".readyz-"):
            pass
    storage.listdir("")


def broker_check() -> None:
    """A connection to the Celery broker (kombu alone: no Celery app is loaded for it)."""
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    options = {}
    if urlsplit(url).scheme in {"redis", "rediss"}:
        options = {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT}
    with Connection(url, connect_timeout=TIMEOUT, transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, timeout=TIMEOUT)
        # Virtual transports (the embedded SQLite broker) only connect when a channel opens.
        channel = broker.default_channel
        if hasattr(channel, "session"):
            channel.session  # noqa: B018 (opening the session opens the database)


CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "store": store_check,
    "broker": broker_check,
}


def _secrets() -> list[str]:
    """The passwords of the configured URLs and S3's secret key, which an error message could
    repeat."""
    found = [str(db.get("PASSWORD") or "") for db in settings.DATABASES.values()]
    for url in (settings.CELERY_BROKER_URL, os.environ.get("DATABASE_URL", "")):
        try:
            found.append(urlsplit(url).password or "")
        except ValueError:
            continue
    # S3's credentials (boto3 reads them from the environment; django-storages' options may
    # hold them too): botocore's messages do not repeat them, and this keeps it so.
    options = settings.STORAGES.get("blobs", {}).get("OPTIONS", {})
    found += [str(options.get(key) or "") for key in ("secret_key", "security_token")]
    found += [os.environ.get(key, "") for key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
    return [secret for secret in found if secret]


def _reason(error: Exception) -> str:
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
    for secret in _secrets():
        text = text.replace(secret, "***")
    return text[:REASON_MAX]


def node_readiness() -> dict[str, str | None]:
    """Each part's state: None when it answers, else why not."""
    states: dict[str, str | None] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure of a part means "not ready", with its reason
            logger.warning("readiness: %s failed", name, exc_info=True)
            states[name] = _reason(error)
            if name == "database":
                connection.close()  # do not keep a broken connection for the next request
        else:
            states[name] = None
    return states
