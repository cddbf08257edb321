"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger
from kombu.transport import TRANSPORT_ALIASES

from pypimirror.broker import SCHEMES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pypimirror.settings.local")


# The embedded default's SQLite broker polled every 0.1 s (celery_sqlite.py); imported when used.
for _scheme in SCHEMES:
    TRANSPORT_ALIASES[_scheme] = "pypimirror.celery_sqlite:SQLiteTransport"

app = Celery("pypimirror")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def redact_urls_in_logs(logger, **_kwargs) -> None:
    """The worker logs through handlers of its own (it replaces the root logger's): they mask
    the credentials of every URL too, as Django's LOGGING does (apps/replication/redaction.py)."""
    from apps.replication.redaction import RedactingFilter

    for handler in logger.handlers:
        handler.addFilter(RedactingFilter())
