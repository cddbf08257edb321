"""HEAD on a real server (gunicorn): GET's headers, no body, and a file's bytes never read.

The wheel's blob is replaced by a directory: opening it fails even for root, so the HEAD
answering 200 with the row's size shows it never opened the blob (the GET, which must, fails).
"""

import hashlib
import http.client
import shutil
import socket
import zipfile
from urllib.parse import urlsplit

import pytest

from apps.catalog.blobstore import blob_path, file_url_path
from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import live_server

pytestmark = pytest.mark.e2e

JSON = "application/vnd.pypi.simple.v1+json"
SAME = ("ETag", "Content-Type", "Cache-Control", "Last-Modified", "X-PyPI-Last-Serial")


def get(url: str, path: str, **headers) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def head(url: str, path: str, **headers) -> tuple[int, dict[str, str], bytes]:
    """HEAD over a raw socket: the status, the headers, and every byte sent after them."""
    parts = urlsplit(url)
    lines = [f"HEAD {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while chunk := sock.recv(65536):  # until the server closes
            received += chunk
    header_block, _, after = received.partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), fields, after


def same_headers(head: dict[str, str], get: dict[str, str]) -> dict[str, tuple]:
    return {h: (head.get(h), get.get(h)) for h in SAME if head.get(h) != get.get(h)}


def test_head_sends_the_headers_of_get_without_a_body_and_never_reads_the_file(tmp_path):
    wheel = build_wheel(DistSpec("demo", "1.0", padding=20000), tmp_path)
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    url_path = "/" + file_url_path(sha256=sha256, filename=wheel.name)
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name)

    with live_server(dists=[wheel], workers=1, threads=2) as server:
        pages = [
            ("/simple/demo/", {"Accept": JSON}),
            ("/simple/", {"Accept": "text/html"}),
            ("/pypi/demo/json", {}),
            ("/last-modified", {}),
            (url_path + ".metadata", {}),
        ]
        for path, headers in pages:
            head_status, head_fields, trailing = head(server.url, path, **headers)
            get_status, get_fields, body = get(server.url, path, **headers)
            assert (head_status, get_status, trailing) == (200, 200, b""), path
            assert same_headers(head_fields, get_fields) == {}, path
            assert head_fields.get("Content-Length") in (None, str(len(body))), path
        assert body == metadata

        blob = server.store_dir / blob_path(sha256=sha256, filename=wheel.name)
        blob.unlink()
        blob.mkdir()  # not a file any more: open() fails, even as root
        status, fields, trailing = head(server.url, url_path)
        assert (status, trailing) == (200, b"")
        assert fields["Content-Length"] == str(wheel.stat().st_size)
        assert fields["ETag"] == f'"{sha256}"'
        assert get(server.url, url_path)[0] == 404  # the GET had to open it
        shutil.rmtree(blob)
