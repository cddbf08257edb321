"""``manage.py index_refresh``: the documents rendered ahead of the first request."""

import pytest
from django.core.management import call_command
from django.db import transaction

from apps.catalog.services import project_lock
from apps.index.documents.services import index_documents_peek, journal_head

pytestmark = pytest.mark.django_db


def test_index_refresh_renders_the_documents_at_the_serial(settings, tmp_path, capsys):
    settings.PYPIMIRROR_INDEX_DIR = tmp_path / "index"
    with transaction.atomic():
        project_lock(name="ahead", create=True)
    call_command("index_refresh")
    serial = journal_head()[0]
    assert capsys.readouterr().out == (
        f"Index documents at serial {serial}: 1 projects in 1 segments.\n"
    )
    assert index_documents_peek().serial == serial
