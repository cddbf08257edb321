"""The documents as answers: streamed with their length, gzipped from the stored deflate, never
kept in Django's cache, always at the node's serial."""

import gzip
import json
import xmlrpc.client

import pytest
from django.core.cache import cache

from apps.catalog.models import JournalEntry
from tests.index.simple_support import HTML, JSON, read_whole

pytestmark = pytest.mark.django_db

LIST_PACKAGES = xmlrpc.client.dumps((), "list_packages_with_serial").encode()


def root(client, accept, **headers):
    return read_whole(client.get("/simple/", headers={"Accept": accept, **headers}))


def list_packages(client, **headers):
    response = client.post("/pypi", data=LIST_PACKAGES, content_type="text/xml", headers=headers)
    return read_whole(response)


def vary(response) -> set[str]:
    return {value.strip() for value in response["Vary"].split(",")}


@pytest.mark.parametrize("accept", [JSON, HTML, "text/html"])
def test_the_root_gzipped_is_the_plain_root_compressed(client, changes, accept):
    for n in range(5):
        changes.create(f"z{n}")
    plain = root(client, accept)
    packed = root(client, accept, Accept_Encoding="gzip, deflate")
    assert packed.streamed and packed["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert packed["Content-Length"] == str(len(packed.content))
    assert plain["Content-Length"] == str(len(plain.content))
    assert {"Accept", "Accept-Encoding"} <= vary(packed) & vary(plain)
    assert packed["ETag"] == f"W/{plain['ETag']}"


def test_a_gzipped_root_revalidates_with_its_weak_etag(client, changes):
    changes.create("w1")
    etag = root(client, JSON, Accept_Encoding="gzip")["ETag"]
    again = client.get("/simple/", headers={"Accept": JSON, "If-None-Match": etag})
    assert again.status_code == 304
    changes.create("w2")
    assert root(client, JSON, If_None_Match=etag).status_code == 200


def test_the_root_is_at_the_serial_just_made(client, changes):
    for n in range(4):
        changes.create(f"n{n}")
        response = root(client, JSON, Accept_Encoding="gzip")
        serial = JournalEntry.objects.latest("id").id
        assert response["X-PyPI-Last-Serial"] == str(serial)
        document = json.loads(gzip.decompress(response.content))
        assert document["meta"]["_last-serial"] == serial
        assert {"name": f"n{n}", "_last-serial": serial} in document["projects"]


def test_head_of_a_current_root_gives_its_length(client, changes):
    changes.create("h1")
    got = root(client, JSON)
    head = client.head("/simple/", headers={"Accept": JSON, "Accept-Encoding": "gzip"})
    assert head["Content-Length"] == str(len(got.content))
    assert "Content-Encoding" not in head
    changes.create("h2")  # a new serial: not known without updating, so not said
    head = client.head("/simple/", headers={"Accept": JSON})
    assert "Content-Length" not in head


def test_list_packages_with_serial_is_streamed_gzipped_with_its_serial(client, changes):
    changes.create("Foo.Bar")
    changes.create("baz")
    serial = JournalEntry.objects.latest("id").id
    packed = list_packages(client, Accept_Encoding="gzip")
    assert packed.streamed and packed["Content-Encoding"] == "gzip"
    assert packed["Content-Type"] == "text/xml; charset=utf-8"
    assert packed["X-PyPI-Last-Serial"] == str(serial)
    plain = list_packages(client)
    assert gzip.decompress(packed.content) == plain.content
    (packages,), _ = xmlrpc.client.loads(plain.content)
    assert set(packages) == {"Foo.Bar", "baz"}


def test_the_documents_never_go_into_the_cache(client, changes):
    changes.create("c1")
    cache.clear()
    for accept in (JSON, HTML):
        for encoding in ("gzip", "identity"):
            assert root(client, accept, Accept_Encoding=encoding).status_code == 200
    assert list_packages(client, Accept_Encoding="gzip").status_code == 200
    assert list(cache._cache) == []  # LocMemCache's own store (tests' settings)
