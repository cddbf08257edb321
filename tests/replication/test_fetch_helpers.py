"""fetch_helpers: an in-process sync hands projects to a helper process, which fetches them
into the command's own store (its settings, not the environment's), and only the command
publishes them."""

import hashlib
import logging
import time
from pathlib import Path

import pytest

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution
from apps.replication import fetch_helpers
from tests.replication.test_sync_command import manage

pytestmark = pytest.mark.django_db(transaction=True)


def test_projects_read_by_a_helper_are_published_with_every_file_right(
    server, upstream, settings, monkeypatch, caplog
):
    for n in range(8):
        upstream.add_release(f"proj-{n}", "1.0")
        upstream.add_release(f"proj-{n}", "2.0")
    upstream.write()
    settings.PYPIMIRROR_SYNC_HELPERS = 1
    monkeypatch.setattr(fetch_helpers, "MIN_PROJECTS", 1)
    submitted = []
    submit = fetch_helpers.FetchHelpers.submit

    def counted(self, **inputs):
        submitted.append(inputs["state"].name)
        return submit(self, **inputs)

    monkeypatch.setattr(fetch_helpers.FetchHelpers, "submit", counted)

    with caplog.at_level(logging.WARNING):
        code = manage("sync", server.url, "--concurrency", "1")

    assert code == 0
    assert submitted  # the helper had projects to read...
    assert "a sync helper process died" not in caplog.text  # ...and read them itself
    files = list(Distribution.objects.all())
    assert len(files) == sum(len(p.files()) for p in upstream.projects.values())
    for file in files:  # in the test's store, where the command's settings put it
        with blob_storage().open(file.blob_path) as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == file.sha256


def test_a_small_run_starts_no_helper(settings):
    settings.PYPIMIRROR_SYNC_HELPERS = 2

    assert fetch_helpers.helpers_wanted(fetch_helpers.MIN_PROJECTS - 1) == 0
    assert fetch_helpers.helpers_wanted(fetch_helpers.MIN_PROJECTS) == 2


def test_terminated_helpers_stop_at_once_whatever_they_are_reading():
    helpers = fetch_helpers.FetchHelpers(1)
    helpers._pool.submit(time.sleep, 60)  # a download of many minutes, say
    deadline = time.monotonic() + 30
    while not helpers._pool._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    (process,) = helpers._pool._processes.values()

    started = time.monotonic()
    fetch_helpers.helpers_terminate()
    # Asked of the kernel, not of process.join(): the pool's own thread reaps its processes, and
    # a join that loses that race sees a dead process as alive.
    while not _exited(process.pid) and time.monotonic() - started < 10:
        time.sleep(0.05)

    status = Path(f"/proc/{process.pid}/status")  # if it lives on: its state and signal masks
    assert _exited(process.pid), status.read_text() if status.exists() else ""
    assert time.monotonic() - started < 10


def _exited(pid: int) -> bool:
    """Whether the process has ended (gone, or a zombie its parent has yet to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in {"Z", "X"}
