"""The whole-index documents from a real server (gunicorn, two workers, on disk): every format
and encoding as pip's requests, httpx, urllib and xmlrpc.client read them, one gzip member, at
the serial of each change as it is made."""

import gzip
import json
import urllib.request
import xmlrpc.client
import zlib

import httpx
import pytest
import requests
from pip._vendor import requests as pip_requests

from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import live_server

pytestmark = pytest.mark.e2e

HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"
CREATE = """
from django.db import transaction
from apps.catalog.services import project_lock
with transaction.atomic():
    print("SERIAL", project_lock(name={name!r}, create=True).last_serial)
"""


def raw(url: str, accept: str, encoding: str) -> tuple[dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, "Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(response.headers), response.read()


def one_member(data: bytes) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    plain = decompressor.decompress(data)
    assert decompressor.eof and decompressor.unused_data == b""
    return plain


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("dists")
    dists = [build_wheel(DistSpec(name, "1.0"), directory) for name in ("Foo.Bar", "baz")]
    with live_server(dists=dists) as node:
        yield node


@pytest.mark.parametrize("accept", [HTML, JSON])
def test_every_client_reads_the_same_root(server, accept):
    url = f"{server.url}/simple/"
    headers, plain = raw(url, accept, "identity")
    packed_headers, packed = raw(url, accept, "gzip")
    assert packed_headers["Content-Encoding"] == "gzip"
    assert int(packed_headers["Content-Length"]) == len(packed)
    assert int(headers["Content-Length"]) == len(plain)
    assert gzip.decompress(packed) == one_member(packed) == plain
    for get in (httpx.get, requests.get, pip_requests.get):  # each asks for gzip itself
        response = get(url, headers={"Accept": accept}, timeout=30)
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.content == plain
    if accept == JSON:
        names = [p["name"] for p in json.loads(plain)["projects"]]
        assert names == ["baz", "Foo.Bar"]


def test_list_packages_with_serial_through_xmlrpc_client(server):
    proxy = xmlrpc.client.ServerProxy(f"{server.url}/pypi")  # asks for gzip
    packages = proxy.list_packages_with_serial()
    assert set(packages) == {"Foo.Bar", "baz"}
    assert max(packages.values()) <= proxy.changelog_last_serial()


def test_each_change_is_in_the_next_answer_whichever_worker_serves_it(server):
    for n in range(6):
        made = server.shell(CREATE.format(name=f"New-{n}")).stdout
        serial = int(made.split()[-1])
        for encoding in ("gzip", "identity"):
            headers, data = raw(f"{server.url}/simple/", JSON, encoding)
            document = json.loads(one_member(data) if encoding == "gzip" else data)
            assert int(headers["X-PyPI-Last-Serial"]) == document["meta"]["_last-serial"] == serial
            assert {"name": f"New-{n}", "_last-serial": serial} in document["projects"]
        packages = xmlrpc.client.ServerProxy(f"{server.url}/pypi").list_packages_with_serial()
        assert packages[f"New-{n}"] == serial
