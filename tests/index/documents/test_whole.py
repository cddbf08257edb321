"""Each document as one file: made by its first answer at a serial, sent as it is by the
answers after, removed once a newer serial is current; the segments when it cannot be had."""

import gzip
import os
import time

import pytest

from apps.index.documents import services
from apps.index.documents.formats import FORMATS
from apps.index.documents.whole import WHOLE, whole_open, whole_prune
from tests.index.simple_support import JSON, read_whole

from .conftest import body

pytestmark = pytest.mark.django_db


def whole_files(index_dir) -> list[str]:
    folder = index_dir / WHOLE
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_the_first_answer_makes_the_file_and_the_next_send_it(client, changes, index_dir):
    for n in range(6):
        changes.create(f"w{n}")
    first = client.get("/simple/", headers={"Accept": JSON})
    assert first.streaming and "Content-Disposition" not in first
    content = b"".join(first.streaming_content)
    manifest = services.index_documents_peek()
    (made,) = whole_files(index_dir)
    assert made == f"{manifest.key}.json"
    assert content == body(manifest, "json")
    assert first["Content-Length"] == str(len(content))
    before = os.stat(index_dir / WHOLE / made)

    again = read_whole(client.get("/simple/", headers={"Accept": JSON}))
    assert again.content == content
    after = os.stat(index_dir / WHOLE / made)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_gzipped_answers_have_their_own_file(client, changes, index_dir):
    changes.create("g1")
    packed = read_whole(client.get("/simple/", headers={"Accept": JSON, "Accept-Encoding": "gzip"}))
    plain = read_whole(client.get("/simple/", headers={"Accept": JSON}))
    assert gzip.decompress(packed.content) == plain.content
    key = services.index_documents_peek().key
    assert whole_files(index_dir) == [f"{key}.json", f"{key}.json.gz"]


def test_a_newer_serial_removes_the_older_files(client, changes, index_dir):
    changes.create("old")
    read_whole(client.get("/simple/", headers={"Accept": JSON}))
    old = services.index_documents_peek()
    held = whole_open(old, "json", gzip=False)  # a reader still sending it
    changes.create("new")
    newer = read_whole(client.get("/simple/", headers={"Accept": JSON}))
    key = services.index_documents_peek().key
    assert key != old.key
    assert whole_files(index_dir) == [f"{key}.json"]
    assert b'"new"' in newer.content
    with held:
        assert held.read() == body(old, "json")  # its open file outlived its name


def test_a_file_cut_short_is_made_again(changes, index_dir):
    changes.create("c1")
    manifest = services.index_documents_refresh()
    with whole_open(manifest, "html", gzip=False) as handle:
        path = handle.name
    with open(path, "r+b") as handle:
        handle.truncate(10)
    with whole_open(manifest, "html", gzip=False) as handle:
        assert handle.read() == body(manifest, "html")


def test_without_a_place_for_the_file_the_answer_streams_the_segments(client, changes, index_dir):
    changes.create("s1")
    services.index_documents_refresh()
    (index_dir / WHOLE).write_bytes(b"not a folder")
    for fmt, accept in (("json", JSON), ("html", "text/html")):
        response = read_whole(client.get("/simple/", headers={"Accept": accept}))
        assert response.content == body(services.index_documents_peek(), fmt)
    assert whole_open(services.index_documents_peek(), "json", gzip=False) is None


def test_prune_keeps_the_current_files_and_a_temporary_file_being_written(changes, index_dir):
    changes.create("p1")
    manifest = services.index_documents_refresh()
    for fmt in FORMATS:
        whole_open(manifest, fmt, gzip=True).close()
    folder = index_dir / WHOLE
    (folder / "1-0123456789abcdef.json").write_bytes(b"older")
    (folder / ".tmp-1-fresh").write_bytes(b"being written")
    stale = folder / ".tmp-1-stale"
    stale.write_bytes(b"its writer died")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert whole_prune(manifest) == 2
    expected = sorted([".tmp-1-fresh", *(f"{manifest.key}.{fmt}.gz" for fmt in FORMATS)])
    assert whole_files(index_dir) == expected
