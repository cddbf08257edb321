"""The catalog's generation: its token changes once a change commits, not before and not for
a change rolled back; this process's own count changes at once."""

import pytest
from django.db import transaction

from apps.catalog import generation
from apps.catalog.journal import Action, journal_write
from apps.catalog.services import project_lock

pytestmark = pytest.mark.django_db(transaction=True)


def _token() -> bytes:
    current = generation.catalog_generation()
    assert current is not None
    return current[0]


def test_the_token_changes_once_the_change_commits():
    before = generation.catalog_generation()
    with transaction.atomic():
        project = project_lock(name="foo", create=True)
        journal_write(project=project, action=Action.NEW_RELEASE, version="1.0")
        inside = generation.catalog_generation()
        assert inside[0] == before[0]  # other processes must not look again yet
        assert inside[1] > before[1]  # this one must: its own change shows at once
    assert _token() != before[0]


def test_a_change_rolled_back_leaves_the_token():
    before = _token()
    with pytest.raises(RuntimeError), transaction.atomic():
        project_lock(name="foo", create=True)
        raise RuntimeError("rolled back")
    assert _token() == before


def test_the_file_is_written_in_place_so_a_mapping_sees_each_token(settings):
    path = settings.DATA_DIR / generation.FILENAME
    first = _token()
    inode = path.stat().st_ino

    generation.catalog_generation_bump()

    assert path.stat().st_ino == inode
    assert _token() != first
    assert len(_token()) == generation.TOKEN_SIZE


def test_a_file_put_in_its_place_is_mapped_anew(settings, monkeypatch):
    monkeypatch.setattr(generation, "RECHECK_SECONDS", 0.0)
    path = settings.DATA_DIR / generation.FILENAME
    first = _token()

    replacement = path.with_name("restored")
    replacement.write_bytes(b"r" * generation.TOKEN_SIZE)
    replacement.replace(path)

    assert _token() == b"r" * generation.TOKEN_SIZE != first
