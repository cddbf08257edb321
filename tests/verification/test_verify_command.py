"""``manage.py verify``: real files in a real store, real PostgreSQL. A corrupted, a deleted
and an orphaned blob are each found; exit 0 sound, 1 findings, 2 could not run."""

import io
import os
import time
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import execute_from_command_line

from apps.catalog.models import Distribution, JournalEntry
from apps.verification import orphans
from apps.verification.models import Finding, VerifyRun
from tests.support.stores import store_fill

pytestmark = pytest.mark.django_db(transaction=True)


def verify(*args: str) -> tuple[int, str]:
    """``manage.py verify ARGS`` in this process (hashing in-process): exit status, output."""
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            execute_from_command_line(["manage.py", "verify", "--in-process", *args])
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else 2), out.getvalue()
    return 0, out.getvalue()


def age(path: Path, hours: float = 2) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def orphan_put(store: Path) -> Path:
    """A blob no row names, older than a sync's file in flight."""
    orphan = store / "packages" / "ab" / "cdef-lost-1.0.tar.gz"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    age(orphan)
    return orphan


@pytest.fixture
def filled(blob_store) -> Path:
    store_fill(files=12, size=3000, projects=3)
    return blob_store


def blob(distribution: Distribution, store: Path) -> Path:
    return store / distribution.blob_path


def test_a_sound_store_exits_0_with_every_file_checked(filled):
    status, output = verify()

    assert status == 0, output
    run = VerifyRun.objects.get()
    assert (run.state, run.files_checked, run.bytes_checked) == ("finished", 12, 12 * 3000)
    assert run.cursor == Distribution.objects.order_by("pk").last().pk
    assert not Finding.objects.exists()


def test_a_corrupted_a_deleted_and_an_orphaned_blob_are_each_found(store, monkeypatch):
    store_fill(files=12, size=3000, projects=3)
    corrupted, deleted = Distribution.objects.order_by("pk")[3:5]
    rotten = bytearray(store.read(corrupted.blob_path))  # one bit flipped, same size
    rotten[100] ^= 1
    store.write(corrupted.blob_path, bytes(rotten))
    store.delete(deleted.blob_path)
    store.write("packages/ab/cdef-lost-1.0.tar.gz", b"left by a crash", age_hours=2)
    if store.kind == "s3":  # S3 sets an object's LastModified itself: none can be made older
        monkeypatch.setattr(orphans, "MIN_AGE", timedelta(0))

    status, output = verify()

    assert status == 1
    found = {f.kind: f for f in Finding.objects.all()}
    assert set(found) == {"corrupt", "missing", "orphan"}
    assert found["corrupt"].path == corrupted.blob_path
    assert found["corrupt"].distribution_id == corrupted.pk
    assert (found["corrupt"].expected_sha256, found["corrupt"].expected_size) == (
        corrupted.sha256,
        3000,
    )
    assert found["corrupt"].actual_sha256 not in ("", corrupted.sha256)
    assert found["corrupt"].actual_size == 3000
    assert (found["missing"].path, found["missing"].filename) == (
        deleted.blob_path,
        deleted.filename,
    )
    assert found["orphan"].path == "packages/ab/cdef-lost-1.0.tar.gz"
    assert found["orphan"].actual_size == len(b"left by a crash")
    assert f"corrupt  {corrupted.blob_path}" in output
    assert f"missing  {deleted.blob_path}" in output
    assert store.read("packages/ab/cdef-lost-1.0.tar.gz") is not None  # listed, not deleted


def test_a_size_mismatch_with_the_right_prefix_is_corrupt(filled):
    truncated = Distribution.objects.order_by("pk").first()
    path = blob(truncated, filled)
    path.write_bytes(path.read_bytes()[:1000])

    status, _ = verify()

    assert status == 1
    finding = Finding.objects.get()
    assert (finding.kind, finding.actual_size, finding.expected_size) == ("corrupt", 1000, 3000)


def test_corrupt_metadata_and_provenance_blobs_are_found(filled):
    from apps.catalog.blobstore import metadata_put, provenance_blob_path, provenance_put
    from apps.catalog.services import distribution_set_provenance

    first, second = Distribution.objects.order_by("pk")[:2]
    sha = metadata_put(blob_path=first.blob_path, data=b"Metadata-Version: 2.1\nName: x\n")
    Distribution.objects.filter(pk=first.pk).update(core_metadata_sha256=sha)
    distribution_set_provenance(distribution=second, sha256=provenance_put(b'{"v": 1}'))
    (filled / f"{first.blob_path}.metadata").write_bytes(b"Metadata-Version: 2.1\nName: y\n")
    (filled / provenance_blob_path(second.provenance_sha256)).unlink()

    status, _ = verify()

    assert status == 1
    assert set(Finding.objects.values_list("kind", "blob", "path")) == {
        ("corrupt", "metadata", f"{first.blob_path}.metadata"),
        ("missing", "provenance", provenance_blob_path(second.provenance_sha256)),
    }


def test_provenance_of_another_size_is_corrupt_and_one_past_the_limit_is_not_read(store):
    from apps.catalog.blobstore import MAX_PROVENANCE_SIZE, provenance_blob_path, provenance_put
    from apps.catalog.services import distribution_set_provenance

    store_fill(files=3, size=500, projects=1)
    rows = list(Distribution.objects.order_by("pk"))
    documents = [b'{"version": 1, "attestation_bundles": [%d]}' % n for n in range(3)]
    for row, document in zip(rows, documents, strict=True):
        distribution_set_provenance(distribution=row, sha256=provenance_put(document))
    paths = [provenance_blob_path(row.provenance_sha256) for row in rows]
    store.write(paths[0], documents[0][:-5])  # cut short
    store.write(paths[1], documents[1] + b" " * 10)  # the same bytes, and more
    store.write(paths[2], b" " * (MAX_PROVENANCE_SIZE + 1))  # no document is that large

    status, _ = verify()

    assert status == 1
    found = {f.path: f for f in Finding.objects.all()}
    assert set(found) == set(paths)
    assert all((f.kind, f.blob) == ("corrupt", "provenance") for f in found.values())
    sizes = [found[path].actual_size for path in paths]
    assert sizes == [len(documents[0]) - 5, len(documents[1]) + 10, MAX_PROVENANCE_SIZE + 1]
    assert found[paths[1]].actual_sha256 not in ("", rows[1].provenance_sha256)
    assert found[paths[2]].actual_sha256 == ""  # too large to be one: not read, not hashed
    assert VerifyRun.objects.get().bytes_checked < 3 * 500 + 200


def test_temporary_and_young_files_are_no_orphans(filled):
    folder = filled / "packages" / "ab"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (".partial-x1y2", "blob-0123-4567-99-abc"):
        (folder / name).write_bytes(b"being written")
        age(folder / name)
    (folder / "just-placed-1.0.tar.gz").write_bytes(b"its row is being published")

    status, output = verify()

    assert status == 0, output


def test_orphans_are_deleted_only_with_delete_orphans(filled):
    orphan = orphan_put(filled)

    assert verify()[0] == 1
    assert orphan.exists()
    status, output = verify("--delete-orphans")

    assert status == 0, output
    assert not orphan.exists()
    finding = VerifyRun.objects.order_by("pk").last().findings.get()
    assert (finding.kind, finding.repair) == ("orphan", "deleted")
    assert Distribution.objects.count() == 12  # every named blob is kept


def test_project_limits_the_check_to_its_files_and_skips_the_orphan_walk(filled):
    other = Distribution.objects.exclude(project__normalized_name="filler-1").first()
    blob(other, filled).unlink()

    status, output = verify("--project", "Filler_1")

    assert status == 0, output
    run = VerifyRun.objects.get()
    assert run.projects == ["filler-1"]
    assert run.files_checked == Distribution.objects.filter(project__name="filler-1").count()
    assert not run.orphans_walked


def test_an_unknown_project_exits_2_and_starts_no_run(filled):
    status, _ = verify("--project", "no-such-project")

    assert status == 2
    assert not VerifyRun.objects.exists()


def test_an_unreachable_store_exits_2(filled, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {**settings.STORAGES["blobs"], "OPTIONS": {"location": str(tmp_path / "gone")}},
    }

    status, _ = verify()

    assert status == 2
    assert not VerifyRun.objects.exists()


def test_bad_arguments_exit_2(filled):
    assert verify("--no-such-option")[0] == 2


def test_repair_hides_local_files_it_cannot_fetch_journaled(filled):
    lost, rotten = Distribution.objects.order_by("pk")[:2]
    blob(lost, filled).unlink()
    blob(rotten, filled).write_bytes(b"rot")

    status, output = verify("--repair")

    assert status == 1, output
    assert set(Finding.objects.values_list("kind", "repair")) == {
        ("missing", "hidden"),
        ("corrupt", "hidden"),
    }
    assert all("source is local" in f.repair_detail for f in Finding.objects.all())
    for hidden in (lost, rotten):
        assert not Distribution.objects.filter(pk=hidden.pk).exists()
        entry = JournalEntry.objects.filter(action=f"remove file {hidden.filename}").get()
        assert entry.normalized_name == hidden.project.normalized_name
    assert not blob(rotten, filled).exists()  # its bad bytes are not kept


def test_the_weekly_task_verifies_the_whole_store(filled):
    from apps.verification.tasks import verify_store

    (filled / Distribution.objects.order_by("pk").first().blob_path).unlink()

    run_id = verify_store.run()

    run = VerifyRun.objects.get(pk=run_id)
    assert (run.trigger, run.state, run.files_checked) == ("schedule", "finished", 12)
    assert list(run.findings.values_list("kind", flat=True)) == ["missing"]


def test_a_second_verify_while_one_runs_exits_2(filled):
    from django.db import connections

    from apps.verification.runner import LOCK_KEY

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # another process's verify holds the lock
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        status, _ = verify()
    finally:
        other.close()

    assert status == 2
    assert not VerifyRun.objects.exists()
    assert verify()[0] == 0  # the lock went with the other connection
