"""``manage.py verify`` on a live node (its own PostgreSQL database and data directory): a
verify SIGKILLed halfway resumes from its saved cursor, and with a Celery worker running the
batches are checked by the worker."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.servers import PROJECT_ROOT, LiveServer, live_server
from tests.support.workers import celery_worker

pytestmark = pytest.mark.e2e

BROKER = os.environ.get("PYPIMIRROR_TEST_CRASH_BROKER", "redis://127.0.0.1:6379/5")
FILES = 600

FILL = f"""
from tests.support.stores import store_fill
store_fill(files={FILES}, size=2048, projects=6)
"""
# Two files corrupted, one early (found before the kill), one late (found after the resume).
CORRUPT = """
from apps.catalog.models import Distribution
from django.conf import settings
ids = list(Distribution.objects.order_by("pk").values_list("pk", "blob_path"))
for pk, path in (ids[5], ids[-5]):
    with open(f"{settings.STORAGES['blobs']['OPTIONS']['location']}/{path}", "r+b") as blob:
        blob.write(b"rot")
    print("corrupted", path)
"""


@pytest.fixture(scope="module")
def node() -> Iterator[LiveServer]:
    with live_server() as server:
        if not server.database_url:
            pytest.skip("needs PostgreSQL")
        server.shell(FILL)
        yield server


def query(server: LiveServer, sql: str) -> list[tuple]:
    with psycopg.connect(server.database_url, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def reset(server: LiveServer) -> list[str]:
    """A store with the two corrupted files, no earlier verify; their paths."""
    for table in ("finding", "verifybatch", "verifyrun"):
        query(server, f"DELETE FROM verification_{table}")
    lines = server.shell(CORRUPT).stdout.splitlines()
    return [line.split()[1] for line in lines if line.startswith("corrupted ")]


def test_a_verify_killed_halfway_resumes_from_its_cursor(node):
    corrupted = reset(node)
    # One file a batch, one thread: slow enough to be killed with its cursor midway.
    process = subprocess.Popen(
        [sys.executable, "manage.py", "verify", "--in-process", "--concurrency", "1",
         "--batch-size", "1"],
        cwd=PROJECT_ROOT, env=node.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        cursor = 0
        while time.monotonic() < deadline:
            rows = query(node, "SELECT cursor FROM verification_verifyrun")
            cursor = rows[0][0] if rows else 0
            if cursor >= 50 or process.poll() is not None:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stdout.read()
    ((run_id, state, killed_at, checked),) = query(
        node, "SELECT id, state, cursor, files_checked FROM verification_verifyrun"
    )
    assert state == "running"
    assert 0 < checked < FILES
    found_before = query(node, "SELECT path FROM verification_finding")
    assert found_before == [(corrupted[0],)]

    result = node.manage("verify", "--in-process", check=False)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(rf"verify #{run_id}, resumed after file #{killed_at}: ", output), output
    ((state, resumed, checked, total),) = query(
        node, "SELECT state, resumed, files_checked, files_total FROM verification_verifyrun"
    )
    # Every file counted once: the second process started at the cursor, not over.
    assert (state, resumed, checked, total) == ("finished", 1, FILES, FILES)
    found = query(node, "SELECT kind, path FROM verification_finding ORDER BY path")
    assert sorted(found) == sorted(("corrupt", path) for path in corrupted)


def test_the_batches_are_checked_by_the_celery_workers(node, tmp_path):
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {BROKER}")
    client.flushdb()
    corrupted = reset(node)
    try:
        with celery_worker(node, broker=BROKER, log=tmp_path / "worker.log") as worker:
            result = node.manage("verify", "--batch-size", "50", check=False)
            log = worker.output()
    finally:
        client.flushdb()

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"{FILES} files" in output and "on the Celery workers" in output, output
    assert log.count("apps.verification.tasks.verify_batch") >= FILES // 50
    found = query(node, "SELECT kind, path FROM verification_finding")
    assert sorted(found) == sorted(("corrupt", path) for path in corrupted)
    assert query(node, "SELECT count(*), bool_and(done) FROM verification_verifybatch") == [
        (FILES // 50, True)
    ]
