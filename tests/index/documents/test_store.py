"""The files: a manifest never names a missing segment, whatever dies when; old segments stay
readable for a while, then go; two processes updating at once do the work once."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from apps.index.documents import services, store
from apps.index.documents.formats import FORMATS
from apps.index.documents.services import index_documents_refresh
from apps.index.documents.store import (
    GRACE,
    LOCK,
    MANIFEST,
    SEGMENTS,
    lock_release,
    lock_try,
    manifest_read,
    segments_prune,
)
from tests.support.servers import PROJECT_ROOT

from .conftest import assert_documents_right, body

pytestmark = pytest.mark.django_db


def named_files_exist(manifest) -> bool:
    folder = manifest.directory / SEGMENTS
    return all((folder / segment.file).is_file() for segment in manifest.segments)


class Died(Exception):
    pass


@pytest.mark.parametrize("writes_before_dying", [0, 1, 3])
def test_an_update_that_dies_leaves_the_last_manifest_whole(
    small, changes, monkeypatch, writes_before_dying
):
    for n in range(12):
        changes.create(f"d{n:02}")
    before = index_documents_refresh()
    for n in range(12):
        changes.create(f"d{n:02}x")  # touches every segment
    real_write, written = store.segment_write, []

    def dying_write(*args, **kwargs):
        if len(written) == writes_before_dying:
            raise Died
        written.append(real_write(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(services, "segment_write", dying_write)
    with pytest.raises(Died):
        index_documents_refresh()
    store._last_read.clear()  # as another process reads it
    current = manifest_read(before.directory)
    assert current.serial == before.serial and current.segments == before.segments
    assert named_files_exist(current)
    assert all(body(current, fmt) == body(before, fmt) for fmt in FORMATS)

    monkeypatch.setattr(services, "segment_write", real_write)
    after = index_documents_refresh()
    assert named_files_exist(after)
    assert_documents_right(after)


def test_a_manifest_that_cannot_be_read_is_redone(small, changes):
    changes.create("x1")
    manifest = index_documents_refresh()
    (manifest.directory / MANIFEST).write_text('{"version": "2/1", "seg')
    store._last_read.clear()
    assert manifest_read(manifest.directory) is None
    assert_documents_right(index_documents_refresh())


def test_replaced_segments_stay_for_the_grace_time_then_go(small, changes):
    names = [changes.create(f"s{n:02}") for n in range(9)]
    first = index_documents_refresh()
    changes.touch(names[0])
    second = index_documents_refresh()
    replaced = {s.file for s in first.segments} - {s.file for s in second.segments}
    assert replaced and set(second.retired) == replaced
    assert named_files_exist(first)  # a reader of the first manifest can still stream it
    assert_documents_right(second)

    later = time.time() + GRACE + 1
    changes.touch(names[4])
    third = index_documents_refresh()
    segments_prune(third, now=later)
    folder = third.directory / SEGMENTS
    assert not any((folder / file).exists() for file in replaced)
    assert named_files_exist(third)
    assert sorted(os.listdir(folder)) == sorted({s.file for s in third.segments})


def test_an_abandoned_temporary_file_is_removed_after_the_grace_time(small, changes):
    changes.create("o1")
    manifest = index_documents_refresh()
    stray = manifest.directory / SEGMENTS / ".tmp-1-dead"
    stray.write_bytes(b"half a segment")
    segments_prune(manifest, now=time.time())
    assert stray.exists()
    segments_prune(manifest, now=time.time() + GRACE + 1)
    assert not stray.exists()


CHILD = """
import logging, sys
import django
django.setup()
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from apps.index.documents import services
services.TARGET, services.MAXIMUM, services.PAGE = 3, 6, 7
manifest = services.index_documents_refresh(wanted=int(sys.argv[1]))
print("SERIAL", manifest.serial)
"""


def child_env(index_dir) -> dict[str, str]:
    database = django_settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pypimirror.settings.test",
        "DATABASE_URL": url,
        "PYPIMIRROR_INDEX_DIR": str(index_dir),
    }


@pytest.mark.django_db(transaction=True)
def test_two_processes_updating_at_once_do_the_work_once(changes, index_dir):
    for n in range(20):
        changes.create(f"c{n:02}")
    serial = services.journal_head()[0]
    held = lock_try(index_dir)  # both wait until this test lets go
    assert held is not None
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(serial)],
            cwd=PROJECT_ROOT,
            env=child_env(index_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(1.5)
    assert all(child.poll() is None for child in children)  # waiting for the lock
    lock_release(held)
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    assert [out.split() for out, _ in outputs] == [["SERIAL", str(serial)]] * 2
    logs = "".join(err for _, err in outputs)
    assert logs.count("index documents at serial") == 1, logs
    manifest = manifest_read(index_dir)
    assert manifest.serial == serial and named_files_exist(manifest)
    assert_documents_right(manifest)
    assert (index_dir / LOCK).exists()


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_while_updating_leaves_whole_documents(changes, index_dir):
    for n in range(300):
        changes.create(f"k{n:03}")
    env = child_env(index_dir)
    for delay in (0.3, 0.6, 0.9):
        changes.touch("k000")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, "0"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.kill()
        child.wait()
        store._last_read.clear()
        manifest = manifest_read(index_dir)
        if manifest is not None:
            assert named_files_exist(manifest)
            for fmt in FORMATS:
                assert len(body(manifest, fmt)) == manifest.length(fmt)
    assert_documents_right(index_documents_refresh())  # the lock died with its holder
