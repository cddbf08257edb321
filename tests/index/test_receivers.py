"""A sync run that ends brings the whole-index documents up to date at once."""

import pytest
from django.db import transaction

from apps.catalog.services import project_lock
from apps.index.documents.services import VERSION, index_documents_peek, journal_head
from apps.replication.signals import sync_run_finished_announce

pytestmark = pytest.mark.django_db


def test_a_finished_sync_run_brings_the_documents_up_to_date(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PYPIMIRROR_INDEX_DIR = tmp_path / "index"
    with transaction.atomic():
        project_lock(name="after-run", create=True)
    assert index_documents_peek() is None
    with django_capture_on_commit_callbacks(execute=True):
        sync_run_finished_announce(run_id=1)
    serial, stamp = journal_head()
    manifest = index_documents_peek()
    assert manifest is not None and manifest.current(serial=serial, stamp=stamp, version=VERSION)
    assert b"after-run" in b"".join(manifest.chunks("html"))
