import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from apps.catalog.blobstore import BlobWriter, project_blob_prefix
from apps.catalog.maintenance import temporary_blobs_remove_dead, temporary_files_remove_stale
from apps.catalog.tasks import remove_stale_temporary_files

DAY = 24 * 3600


def _file(path, *, age: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_files_older_than_a_day_are_removed_and_newer_ones_kept(settings):
    old = _file(settings.TMP_DIR / "blob-old", age=DAY + 60)
    nested = _file(settings.TMP_DIR / "sync" / "blob-nested", age=3 * DAY)
    fresh = _file(settings.TMP_DIR / "blob-fresh", age=DAY - 60)

    assert temporary_files_remove_stale() == 2

    assert not old.exists()
    assert not nested.exists()
    assert fresh.exists()
    assert nested.parent.is_dir()


def test_a_symlink_is_removed_but_never_its_target(settings, tmp_path):
    target = _file(tmp_path / "elsewhere" / "precious", age=3 * DAY)
    link = settings.TMP_DIR / "link"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    os.utime(link, (time.time() - 3 * DAY,) * 2, follow_symlinks=False)

    assert temporary_files_remove_stale() == 1

    assert not link.is_symlink()
    assert target.read_bytes() == b"partial"


def test_a_missing_temporary_folder_removes_nothing(settings):
    assert not settings.TMP_DIR.exists()
    assert temporary_files_remove_stale(max_age=timedelta(0)) == 0


def test_task_removes_stale_files(settings):
    old = _file(settings.TMP_DIR / "blob-old", age=2 * DAY)

    remove_stale_temporary_files.apply()

    assert not old.exists()


@pytest.mark.django_db
def test_migration_schedules_the_task_hourly_in_beat():
    task = PeriodicTask.objects.get(task="apps.catalog.tasks.remove_stale_temporary_files")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "hours")


def _dead_pid() -> int:
    """The pid of a process that ran and is gone (reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_projects_next_sync_removes_its_dead_downloads_only(settings):
    dead = _dead_pid()
    mine = project_blob_prefix("Some_Project")
    of_dead = _file(settings.TMP_DIR / f"{mine}{dead}-abcd1234", age=1)
    being_written = _file(settings.TMP_DIR / f"{mine}{os.getpid()}-abcd1234", age=1)
    other_project = _file(settings.TMP_DIR / f"{project_blob_prefix('other')}{dead}-x", age=1)
    no_project = _file(settings.TMP_DIR / "blob-abcd1234", age=1)

    assert temporary_blobs_remove_dead(projects=["some-project"]) == 1

    assert not of_dead.exists()
    assert being_written.exists()  # its writer (this process) still runs
    assert other_project.exists()
    # a batch's projects in one look at the folder
    assert temporary_blobs_remove_dead(projects=["some-project", "other", "third"]) == 1
    assert not other_project.exists()
    assert (being_written.exists(), no_project.exists()) == (True, True)
    assert no_project.exists()


def test_a_download_names_its_temporary_file_after_its_project_and_process(settings):
    with BlobWriter(filename="a-1.0.tar.gz", project="Some.Project") as writer:
        name = os.path.basename(writer.path)
        assert name.startswith(f"{project_blob_prefix('some-project')}{os.getpid()}-")
        assert temporary_blobs_remove_dead(projects=["some-project"]) == 0
        assert os.path.exists(writer.path)
