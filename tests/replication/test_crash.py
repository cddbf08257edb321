"""A real Celery worker (Redis broker, this test's PostgreSQL database) killed with SIGKILL in the
middle of a sync: nothing partial or unverified was ever served, and the next sync converges
with no duplicate rows."""

import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from apps.catalog.blobstore import METADATA_SUFFIX, blob_put_file, file_url_path
from apps.catalog.models import Project
from apps.replication.models import ProjectSyncState, SyncRun
from tests.support.upstream import Fault

from .helpers import (
    assert_catalog_consistent,
    assert_node_mirrors,
    files_under,
    store_problems,
    sync,
    upstream_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own, so no other test's or developer's queue is touched.
BROKER = os.environ.get("PYPIMIRROR_TEST_CRASH_BROKER", "redis://127.0.0.1:6379/5")
PROJECTS = [f"crash-{i}" for i in range(6)]
SHA256 = re.compile(r"[0-9a-f]{64}")
FILE_DELAY = 0.4  # seconds per file download: the kill lands in the middle of the sync


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (its own process group); return once every
        one of them is gone (the pool's children are reaped by init, not by us)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        raise AssertionError(f"processes of group {self.process.pid} outlived SIGKILL")

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _database_url() -> str:
    """This test's (committed) database, for the worker."""
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{connection.settings_dict['NAME']}", "", ""))


@pytest.fixture
def start_worker(tmp_path) -> Iterator:
    """``start_worker(**env)``: a ``celery -A pypimirror worker`` on this test's database, broker
    and data directory (the blob store and TMP_DIR the test reads), with ``env`` (settings from
    the environment) too, ready when returned."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test's database only on PostgreSQL")
    if not _redis_available():
        pytest.skip(f"no Redis at {BROKER}")
    workers: list[Worker] = []
    sender = Celery("crash-test", broker=BROKER)
    if sender.control.inspect(timeout=0.5).ping():
        pytest.fail(f"other Celery workers use {BROKER}: set PYPIMIRROR_TEST_CRASH_BROKER")
    _flush_broker()  # what a killed run of this test may have left

    def start(**settings_env: str) -> Worker:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYPIMIRROR_", "DJANGO_", "CELERY_")) and k != "DATABASE_URL"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="pypimirror.settings.test",
            DATABASE_URL=_database_url(),
            CELERY_BROKER_URL=BROKER,
            PYPIMIRROR_DATA_DIR=str(tmp_path),  # store/ and tmp/ as the blob_store fixture
            PYPIMIRROR_HTTP_TIMEOUT="10",
            PYTHONUNBUFFERED="1",
            **settings_env,
        )
        log = tmp_path / f"worker-{len(workers)}.log"
        name = f"crash-{uuid.uuid4().hex[:8]}@%h"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "pypimirror",
                    "worker",
                    "-n",
                    name,
                    "--pool=prefork",
                    "--concurrency=2",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        worker = Worker(process, log)
        workers.append(worker)
        deadline = time.monotonic() + 60
        while not (sender.control.inspect(timeout=0.5).ping() or {}):
            if process.poll() is not None or time.monotonic() > deadline:
                worker.kill()
                pytest.fail(f"the worker did not start:\n{worker.output()}")
        return worker

    start.sender = sender
    yield start
    for worker in workers:
        worker.kill()
    sender.close()
    _flush_broker()


def content_addressed_blobs_are_whole(store: Path) -> list[str]:
    """Every blob in the store holds exactly the bytes its path names (no partial file): the
    sha256 of its bytes is the one its path spells, in the flat layout
    (``packages/<h[:2]>/<h[2:]>-<filename>``) or PyPI's (``packages/<h[:2]>/<h[2:4]>/<h[4:]>/
    <filename>``). A file in neither layout is reported too. Metadata files (``.metadata``, named
    after their distribution's hash) are checked against their rows by ``store_problems``."""
    bad = []
    packages = store / "packages"
    for path in files_under(packages):
        rel = Path(path).relative_to(packages).parts
        if path.endswith(METADATA_SUFFIX) or rel[-1].startswith(".partial-"):
            continue  # .partial-*: the storage's own staging name, renamed into place when whole
        if len(rel) == 2:  # flat
            named = rel[0] + rel[1].partition("-")[0]
        elif len(rel) == 4:  # PyPI's
            named = "".join(rel[:3])
        else:
            named = ""
        if not SHA256.fullmatch(named):
            bad.append(f"{path}: not a blob path")
        elif hashlib.sha256(Path(path).read_bytes()).hexdigest() != named:
            bad.append(f"{path}: bytes differ from the sha256 of its path")
    return bad


def test_blob_check_reports_a_corrupted_blob_in_either_layout(blob_store):
    flat = blob_put_file(io.BytesIO(b"flat bytes"), filename="flat-1.0.tar.gz")
    long_name = f"long-1.0-{'x' * 200}.tar.gz"  # too long for the flat name: PyPI's layout
    pypi = blob_put_file(io.BytesIO(b"pypi bytes"), filename=long_name)
    assert len(Path(flat.blob_path).parts) == 3
    assert pypi.blob_path == file_url_path(sha256=pypi.sha256, filename=long_name)
    assert content_addressed_blobs_are_whole(blob_store) == []

    for blob in (flat, pypi):
        path = blob_store / blob.blob_path
        data = bytearray(path.read_bytes())
        data[3] ^= 0xFF
        path.write_bytes(data)

    assert content_addressed_blobs_are_whole(blob_store) == [
        f"{blob_store / blob.blob_path}: bytes differ from the sha256 of its path"
        for blob in sorted((flat, pypi), key=lambda b: str(blob_store / b.blob_path))
    ]


def test_blob_check_reports_a_file_outside_both_layouts(blob_store):
    stray = blob_store / "packages" / "ab" / "stray.whl"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"?")

    assert content_addressed_blobs_are_whole(blob_store) == [f"{stray}: not a blob path"]


@pytest.fixture
def slow_upstream(server, upstream):
    for name in PROJECTS:
        upstream.add_release(name, "1.0")
    upstream.write()
    server.add_fault(Fault(delay=FILE_DELAY), kind="file")
    return server


def kill_mid_sync(worker: Worker, sender, upstream_row, blob_store) -> SyncRun:
    """Start a scheduled sync on the worker; SIGKILL it once some projects are published and
    others are mid-download. Meanwhile, every row the node could serve is checked."""
    sender.send_task("apps.replication.tasks.sync_upstream", args=(upstream_row.pk, "schedule"))
    deadline = time.monotonic() + 60
    while True:
        assert store_problems() == []
        assert content_addressed_blobs_are_whole(blob_store) == []
        run = SyncRun.objects.filter(upstream=upstream_row).first()
        leased = ProjectSyncState.objects.exclude(lease_owner="").count()
        if run is not None and run.projects_done >= 1 and leased >= 1:
            break
        if time.monotonic() > deadline or worker.process.poll() is not None:
            pytest.fail(f"the sync did not get under way:\n{worker.output()}")
        time.sleep(0.02)
    time.sleep(FILE_DELAY / 2)  # in the middle of a download
    worker.kill()
    run.refresh_from_db()
    return run


def test_killed_worker_never_served_a_partial_file(
    slow_upstream, start_worker, blob_store, tmp_path
):
    worker = start_worker()
    row = upstream_for(slow_upstream)

    run = kill_mid_sync(worker, start_worker.sender, row, blob_store)

    assert run.state == SyncRun.State.RUNNING
    assert 1 <= Project.objects.count() < len(PROJECTS)
    # The kill cut a download short: its bytes are only in TMP_DIR, under a temporary name.
    assert files_under(settings.TMP_DIR, lambda n: n.startswith("blob-"))
    assert store_problems() == []
    assert content_addressed_blobs_are_whole(blob_store) == []
    assert_catalog_consistent()


def assert_converged(client, upstream) -> None:
    for name in PROJECTS:
        assert_node_mirrors(client, upstream, name)
    assert store_problems() == []
    assert_catalog_consistent()
    assert not ProjectSyncState.objects.exclude(lease_owner="").exists()


def test_next_full_sync_right_after_a_kill_converges(
    slow_upstream, upstream, start_worker, blob_store, client
):
    worker = start_worker()
    row = upstream_for(slow_upstream)
    kill_mid_sync(worker, start_worker.sender, row, blob_store)
    slow_upstream.clear_faults()

    killed = SyncRun.objects.get()
    run = sync(row)

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    assert_converged(client, upstream)
    killed.refresh_from_db()
    assert (killed.state, killed.error[:9]) == (SyncRun.State.FAILED, "abandoned")


def test_sync_of_the_projects_right_after_a_kill_takes_over_the_dead_workers_leases(
    slow_upstream, upstream, start_worker, blob_store, client
):
    worker = start_worker()
    row = upstream_for(slow_upstream)
    kill_mid_sync(worker, start_worker.sender, row, blob_store)
    assert ProjectSyncState.objects.exclude(lease_owner="").exists()
    slow_upstream.clear_faults()

    run = sync(row, projects=PROJECTS)

    assert (run.state, run.projects_done) == (SyncRun.State.SUCCEEDED, len(PROJECTS)), run.errors
    assert_converged(client, upstream)


def test_new_worker_after_a_kill_converges(
    slow_upstream, upstream, start_worker, blob_store, client
):
    worker = start_worker()
    row = upstream_for(slow_upstream)
    kill_mid_sync(worker, start_worker.sender, row, blob_store)
    slow_upstream.clear_faults()
    start_worker()

    start_worker.sender.send_task("apps.replication.tasks.sync_upstream", args=(row.pk, "schedule"))

    deadline = time.monotonic() + 20  # polled: a loaded machine is slower, not wrong
    while Project.objects.filter(distributions__isnull=False).distinct().count() < len(PROJECTS):
        assert store_problems() == []
        assert time.monotonic() < deadline, "the new worker did not converge"
        time.sleep(0.1)
    assert_converged(client, upstream)
