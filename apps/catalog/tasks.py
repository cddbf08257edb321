"""Celery tasks of the catalog: thin wrappers over services, scheduled by django-celery-beat."""

from pypimirror.celery import app

from .maintenance import temporary_files_remove_stale


@app.task(ignore_result=True)
def remove_stale_temporary_files() -> int:
    """Periodic (hourly, set up by migration 0002): clear debris of unfinished writes."""
    return temporary_files_remove_stale()
