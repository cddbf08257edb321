"""The documents kept current from the journal: an update gives the bytes a rendering from
scratch gives, renders only what changed, and starts over when it cannot trust its manifest."""

import json
import logging
import threading

import pytest
from django.db import connection, transaction

from apps.catalog.models import JournalEntry
from apps.index.documents import services, store
from apps.index.documents.formats import FORMATS, JSON
from apps.index.documents.services import (
    index_documents_current,
    index_documents_refresh,
    journal_head,
)

from .conftest import assert_documents_right, body

pytestmark = pytest.mark.django_db

SCRATCH = "from scratch"


def refresh_how(caplog) -> str:
    """How the last refresh went, as it logged it."""
    with caplog.at_level(logging.INFO, logger="apps.index.documents.services"):
        caplog.clear()
        manifest = index_documents_refresh()
    lines = [r.getMessage() for r in caplog.records if "index documents" in r.getMessage()]
    return manifest, (lines[-1] if lines else "")


def test_an_empty_catalog_has_empty_documents():
    manifest = index_documents_refresh()
    assert manifest.segments == ()
    assert json.loads(body(manifest, JSON))["projects"] == []
    assert_documents_right(manifest)


def test_updates_give_the_bytes_of_a_rendering_from_scratch(
    small, changes, caplog, settings, tmp_path
):
    for _ in range(20):
        changes.create()
    manifest, how = refresh_how(caplog)
    assert SCRATCH in how
    for _round in range(25):
        for _ in range(changes.rng.randrange(1, 6)):
            changes.random_change()
        manifest, how = refresh_how(caplog)
        assert SCRATCH not in how, how
        assert manifest.serial == journal_head()[0]
        assert_documents_right(manifest)
        assert all(0 < segment.count <= services.MAXIMUM for segment in manifest.segments)
        assert [segment.lead for segment in manifest.segments][:1] == [True]
        assert not any(segment.lead for segment in manifest.segments[1:])
    incremental = {fmt: body(manifest, fmt) for fmt in FORMATS}
    settings.PYPIMIRROR_INDEX_DIR = tmp_path / "scratch"
    fresh, how = refresh_how(caplog)
    assert SCRATCH in how
    assert {fmt: body(fresh, fmt) for fmt in FORMATS} == incremental


def test_an_update_renders_only_the_segments_holding_the_changes(small, changes):
    names = sorted(changes.create(f"p{n:02}") for n in range(30))
    before = index_documents_refresh()
    changes.touch(names[14])
    after = index_documents_refresh()
    changed = {s.file for s in after.segments} - {s.file for s in before.segments}
    assert len(changed) == 1
    assert len(after.segments) == len(before.segments)
    assert_documents_right(after)


def test_a_segment_grown_too_big_is_split_and_an_emptied_one_dropped(small, changes):
    names = [changes.create(f"m{n:02}") for n in range(12)]
    index_documents_refresh()
    for n in range(10):
        changes.create(f"m05x{n}")  # all in one segment's range
    manifest = index_documents_refresh()
    assert max(segment.count for segment in manifest.segments) <= services.MAXIMUM
    assert_documents_right(manifest)
    count = len(manifest.segments)
    for name in names[-3:]:  # the last segment's projects
        changes.remove(name)
    manifest = index_documents_refresh()
    assert len(manifest.segments) == count - 1
    assert_documents_right(manifest)


def test_when_the_first_segment_empties_the_next_is_rendered_first(small, changes):
    names = [changes.create(f"f{n:02}") for n in range(9)]
    index_documents_refresh()
    for name in names[:3]:
        changes.remove(name)
    manifest = index_documents_refresh()
    assert manifest.segments[0].lead
    json.loads(body(manifest, JSON))  # no leading comma
    assert_documents_right(manifest)


def test_a_name_before_every_segment_goes_into_the_first(small, changes):
    for n in range(9):
        changes.create(f"k{n:02}")
    index_documents_refresh()
    changes.create("aaa")
    changes.create("zzz")
    assert_documents_right(index_documents_refresh())


def test_a_manifest_whose_serial_the_journal_no_longer_holds_is_redone(small, changes, caplog):
    for n in range(5):
        changes.create(f"r{n}")
    manifest = index_documents_refresh()
    path = manifest.directory / store.MANIFEST
    data = json.loads(path.read_text())
    data["stamp"] = "2000-01-01T00:00:00+00:00"  # another catalog at the same serial
    path.write_text(json.dumps(data))
    changes.create("r9")
    manifest, how = refresh_how(caplog)
    assert SCRATCH in how
    assert_documents_right(manifest)


def test_documents_of_other_code_are_redone(small, changes, caplog, monkeypatch):
    changes.create("v1")
    index_documents_refresh()
    monkeypatch.setattr(services, "VERSION", "other")
    changes.create("v2")
    manifest, how = refresh_how(caplog)
    assert SCRATCH in how
    assert manifest.version == "other"


def test_too_many_changes_are_rendered_from_scratch(small, changes, caplog, monkeypatch):
    changes.create("t1")
    index_documents_refresh()
    monkeypatch.setattr(services, "FULL_AFTER", 3)
    for n in range(4):
        changes.create(f"t{n + 2}")
    manifest, how = refresh_how(caplog)
    assert SCRATCH in how
    assert_documents_right(manifest)


def test_current_documents_cost_one_read_and_no_update(small, changes, django_assert_num_queries):
    changes.create("c1")
    serial, stamp = journal_head()
    first = index_documents_current(serial=serial, stamp=stamp)
    with django_assert_num_queries(0):
        assert index_documents_current(serial=serial, stamp=stamp) is first


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_is_not_missed(small, changes):
    """Serials are taken at insert and committed in any order: an update at serial N+1 may not
    see N yet; it remembers N and looks for it again next time."""
    for n in range(6):
        changes.create(f"g{n}")
    index_documents_refresh()
    inserted, commit = threading.Event(), threading.Event()

    def late_writer():
        try:
            with transaction.atomic():
                changes.create("g-late")
                inserted.set()
                commit.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=late_writer)
    writer.start()
    assert inserted.wait(10)
    changes.create("g-early")  # a later serial, committed first
    early = index_documents_refresh()
    assert "g-late" not in body(early, JSON).decode()
    assert early.gaps
    commit.set()
    writer.join()
    changes.touch("g0")
    later = index_documents_refresh()
    assert '"g-late"' in body(later, JSON).decode()
    assert_documents_right(later)
    late_serial = JournalEntry.objects.get(normalized_name="g-late").id
    assert not any(low <= late_serial <= high for low, high, _ in later.gaps)
