"""The orphan walk goes on from its cursor: a verify stopped in the walk (Ctrl-C here: a
KeyboardInterrupt from its progress hook, which leaves the run ``running`` as a SIGKILL does)
walks only the folders after the last one it saved when it is run again, and every orphan is
found once, on disk and on S3. Real files, a real store, real PostgreSQL."""

from datetime import timedelta

import pytest

from apps.verification import orphans
from apps.verification.models import Finding, VerifyRun
from apps.verification.orphans import walk_folders
from apps.verification.verify import verify
from tests.support.stores import store_fill

pytestmark = pytest.mark.django_db(transaction=True)

STOP_AFTER = "packages/7f"
ORPHANS = [
    "packages/stray.tar.gz",  # the tree's own files: the walk's first folder
    "packages/0a/" + "1" * 62 + "-lost-1.0.tar.gz",
    "packages/7f/" + "2" * 62 + "-lost-2.0.tar.gz",
    "packages/7f/3c/" + "3" * 60 + "/lost-3.0-py3-none-any.whl",  # PyPI's layout, as before
    "packages/c3/" + "4" * 62 + "-lost-4.0.tar.gz.metadata",
    "provenance/5e/" + "5" * 62 + ".json",
]


class Stop(KeyboardInterrupt):
    """Ctrl-C, in the walk."""


def walked(seen: list[str]):
    """A progress hook recording each folder the walk finishes (once)."""

    def progress(run: VerifyRun) -> None:
        if run.orphans_cursor and (not seen or seen[-1] != run.orphans_cursor):
            seen.append(run.orphans_cursor)

    return progress


def test_a_verify_stopped_in_the_walk_goes_on_after_its_cursor_finding_each_orphan_once(
    store, monkeypatch
):
    store_fill(files=8, size=500, projects=2)
    for path in ORPHANS:
        store.write(path, b"left by a crash", age_hours=2)
    if store.kind == "s3":  # S3 sets an object's LastModified itself: none can be made older
        monkeypatch.setattr(orphans, "MIN_AGE", timedelta(0))
    from apps.catalog.blobstore import blob_storage

    folders = walk_folders(blob_storage())
    first: list[str] = []
    record_first = walked(first)

    def stop_after(run: VerifyRun) -> None:
        record_first(run)
        if run.orphans_cursor == STOP_AFTER:
            raise Stop

    with pytest.raises(Stop):
        verify(projects=[], concurrency=1, progress=stop_after)

    run = VerifyRun.objects.get()
    assert (run.state, run.orphans_walked, run.orphans_cursor) == ("running", False, STOP_AFTER)
    assert first == folders[: folders.index(STOP_AFTER) + 1]
    assert set(run.findings.values_list("path", flat=True)) == set(ORPHANS[:4])

    second: list[str] = []
    outcome = verify(projects=[], concurrency=1, progress=walked(second))

    assert outcome.run.pk == run.pk and outcome.walk_resumed_after == STOP_AFTER
    assert second == folders[folders.index(STOP_AFTER) + 1 :]  # not one folder walked twice
    run.refresh_from_db()
    assert (run.state, run.orphans_walked, run.resumed) == ("finished", True, 1)
    found = list(run.findings.values_list("kind", "path"))
    assert sorted(found) == sorted(("orphan", path) for path in ORPHANS)
    assert run.findings_count == len(ORPHANS) == Finding.objects.count()
