"""Fetching one upstream file: streamed into the blob store with size and sha256 checked, its
PEP 658 metadata checked; nothing of a file that fails is kept."""

import hashlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from django.conf import settings

from apps.catalog.blobstore import blob_path
from apps.replication.clients.base import RemoteFile, UpstreamError
from apps.replication.clients.http import make_http_client
from apps.replication.fetcher import fetch_file
from tests.support.dists import DistSpec, metadata_text, wheel_bytes, wheel_filename
from tests.support.loopback import loopback_server, server_url
from tests.support.upstream import Fault

from .helpers import files_under


@pytest.fixture
def http() -> Iterator:
    with make_http_client() as client:
        yield client


@pytest.fixture
def wheel(server, upstream):
    """An upstream wheel with PEP 658 metadata; returns its UpstreamFile."""
    upstream.add_release("alpha", "1.0", sdist=False)
    upstream.write()
    return next(iter(upstream.release("alpha", "1.0").files.values()))


def remote(server, file, **overrides) -> RemoteFile:
    fields = {
        "filename": file.filename,
        "url": f"{server.url}/packages/{file.path}",
        "sha256": file.sha256,
        "size": file.size,
        "version": file.version,
        "packagetype": file.packagetype,
        "core_metadata_sha256": file.metadata_sha256,
    } | overrides
    return RemoteFile(**fields)


def stored(blob_store: Path) -> list[str]:
    return [str(Path(p).relative_to(blob_store)) for p in files_under(blob_store)]


def test_file_lands_under_its_sha256_with_its_metadata(server, upstream, wheel, http, blob_store):
    fetched = fetch_file(http, remote(server, wheel))

    path = blob_path(sha256=wheel.sha256, filename=wheel.filename)
    assert fetched.file.blob_path == path
    assert (blob_store / path).read_bytes() == (
        upstream.root / "packages" / wheel.path
    ).read_bytes()
    metadata = (blob_store / f"{path}.metadata").read_bytes()
    assert hashlib.sha256(metadata).hexdigest() == wheel.metadata_sha256
    assert fetched.core_metadata_sha256 == wheel.metadata_sha256
    assert (fetched.file.size, fetched.version) == (wheel.size, "1.0")
    assert files_under(settings.TMP_DIR) == []


def test_metadata_is_read_from_the_wheel_when_it_matches(server, wheel, http):
    server.add_fault(Fault(corrupt=True), kind="metadata")

    fetch_file(http, remote(server, wheel))

    assert server.requests(kind="metadata") == []


@pytest.mark.parametrize(
    ("overrides", "fault", "message"),
    [
        ({"sha256": "0" * 64}, None, "sha256"),
        ({"size": 10}, None, "more than the 10 bytes"),
        ({}, Fault(corrupt=True), "sha256"),
        ({}, Fault(oversize=1), "bytes"),
        ({}, Fault(truncate=50), ""),
        ({}, Fault(status=404), "HTTP 404"),
    ],
    ids=["listed-hash", "listed-size", "corrupt", "oversize", "truncated", "404"],
)
def test_file_that_fails_a_check_leaves_nothing(
    server, wheel, http, blob_store, overrides, fault, message
):
    if fault:
        server.add_fault(fault, kind="file")

    with pytest.raises(UpstreamError, match=message or None):
        fetch_file(http, remote(server, wheel, **overrides))

    assert stored(blob_store) == []
    assert files_under(settings.TMP_DIR) == []


@pytest.mark.parametrize(
    "filename", ["../evil-1.0-py3-none-any.whl", "a/evil-1.0.tar.gz", "..\\evil.whl", ".hidden"]
)
def test_unsafe_filename_is_refused_before_any_request(server, wheel, http, blob_store, filename):
    server.clear_requests()

    with pytest.raises(UpstreamError, match="unsafe filename"):
        fetch_file(http, remote(server, wheel, filename=filename))

    assert server.requests() == []
    assert stored(blob_store) == []


def test_upstream_metadata_that_differs_from_the_wheel_is_fetched_and_checked(
    server, upstream, http, blob_store
):
    spec = DistSpec(name="meta", version="1.0")
    listed_metadata = metadata_text(spec).encode() + b"X-Extra: served by the upstream\n"
    file = upstream.add_raw_file(
        "meta",
        "1.0",
        wheel_filename(spec),
        wheel_bytes(spec),
        packagetype="bdist_wheel",
        python_version="py3",
        metadata=listed_metadata,
    )
    upstream.write()

    fetched = fetch_file(http, remote(server, file))

    assert len(server.requests(kind="metadata")) == 1
    path = blob_store / f"{fetched.file.blob_path}.metadata"
    assert path.read_bytes() == listed_metadata


def test_bad_metadata_leaves_nothing(server, upstream, http, blob_store):
    spec = DistSpec(name="meta", version="1.0")
    file = upstream.add_raw_file(
        "meta",
        "1.0",
        wheel_filename(spec),
        wheel_bytes(spec),
        packagetype="bdist_wheel",
        python_version="py3",
        metadata=b"Metadata-Version: 2.1\nName: meta\nVersion: 1.0\n",
    )
    upstream.write()
    server.add_fault(Fault(corrupt=True), kind="metadata")

    with pytest.raises(UpstreamError, match="metadata"):
        fetch_file(http, remote(server, file))

    assert stored(blob_store) == []
    assert files_under(settings.TMP_DIR) == []


def test_file_the_node_cannot_read_is_kept_verbatim(server, upstream, http, blob_store):
    file = upstream.add_raw_file(
        "oldie", "2004d", "oldie-2004d.tar.bz2", b"not really bzip2\n", requires_python=">=3.6,"
    )
    upstream.write()

    fetched = fetch_file(http, remote(server, file))

    assert (blob_store / fetched.file.blob_path).read_bytes() == b"not really bzip2\n"
    assert (fetched.version, fetched.core_metadata_sha256) == ("2004d", None)


@pytest.fixture
def redirector(server):
    """A second HTTP server on loopback that sends every GET to the upstream with a 302."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"{server.url}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with loopback_server(Redirect) as httpd:
        yield server_url(httpd)


def test_a_file_behind_a_redirect_is_followed(server, wheel, http, blob_store, redirector):
    assert http.files is not None  # files take the direct path ...
    url = f"{redirector}/packages/{wheel.path}"

    fetched = fetch_file(http, remote(server, wheel, url=url))  # ... and redirects the client's

    assert fetched.file.sha256 == wheel.sha256
    assert [r.kind for r in server.requests()] == ["file"]


def test_with_a_proxy_in_the_environment_files_go_through_it(server, wheel, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with make_http_client() as client:
        assert client.files is None
        with pytest.raises(UpstreamError, match="ConnectError"):
            fetch_file(client, remote(server, wheel))
    assert server.requests() == []
