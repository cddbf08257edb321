import gzip
import hashlib
import http.client
import zipfile
from urllib.parse import urlsplit

import pytest
from django.utils.http import http_date

from apps.catalog import services
from apps.catalog.blobstore import file_url_path
from apps.catalog.models import Distribution, Project
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db

SECRET = b"SECRET DATABASE BYTES"
TRAVERSALS = [
    "/packages/../db.sqlite3",
    "/packages/../../db.sqlite3",
    "/packages/%2e%2e/db.sqlite3",
    "/packages/%2E%2E/%2E%2E/db.sqlite3",
    "/packages/..%2fdb.sqlite3",
    "/packages/..%2f..%2fdb.sqlite3",
    "/packages/..%5cdb.sqlite3",
    "/packages/..\\db.sqlite3",
    "/packages/%2e%2e%2f%2e%2e%2fdb.sqlite3",
    "/packages//etc/passwd",
    "/packages/ab/cd/" + "0" * 60 + "/..%2f..%2f..%2f..%2f..%2fdb.sqlite3",
    "/packages/ab/cd/" + "0" * 60 + "/../../../../../db.sqlite3",
]


@pytest.fixture
def secret_beside_store(blob_store):
    """A file next to the store, where the SQLite database lives by default."""
    blob_store.mkdir(parents=True, exist_ok=True)
    secret = blob_store.parent / "db.sqlite3"
    secret.write_bytes(SECRET)
    return secret


@pytest.fixture
def wheel(publish):
    (path,) = publish(DistSpec("foo", "1.0", padding=5000), sdist=False)
    return path


def file_url(path) -> str:
    dist = Distribution.objects.get(filename=path.name)
    return "/" + file_url_path(sha256=dist.sha256, filename=dist.filename)


def wheel_metadata(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_file_is_served_whole_with_its_headers(client, streamed_from, wheel):
    response = client.get(file_url(wheel))
    content = wheel.read_bytes()
    assert response.status_code == 200
    assert response.streaming
    assert body(response) == content
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["ETag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    assert response["Accept-Ranges"] == "bytes"
    assert "immutable" in response["Cache-Control"]
    upload_time = Distribution.objects.get().upload_time
    assert response["Last-Modified"] == http_date(upload_time.timestamp())


def test_metadata_file_is_the_wheels_metadata_byte_for_byte(client, streamed_from, wheel):
    response = client.get(file_url(wheel) + ".metadata")
    metadata = wheel_metadata(wheel)
    assert response.status_code == 200
    assert body(response) == metadata
    assert response["Content-Length"] == str(len(metadata))
    assert response["ETag"] == f'"{hashlib.sha256(metadata).hexdigest()}"'
    assert response["ETag"] == f'"{Distribution.objects.get().core_metadata_sha256}"'


def test_sdist_has_no_metadata_file(client, publish):
    (sdist,) = publish(DistSpec("foo", "1.0"), wheel=False)
    assert client.get(file_url(sdist)).status_code == 200
    assert client.get(file_url(sdist) + ".metadata").status_code == 404


def test_matching_etag_gets_304(client, streamed_from, wheel):
    etag = client.get(file_url(wheel))["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(file_url(wheel), headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response["ETag"] == etag


def test_other_etag_gets_the_file(client, wheel):
    response = client.get(file_url(wheel), headers={"If-None-Match": '"0000"'})
    assert response.status_code == 200


def test_if_modified_since_the_upload_gets_304(client, wheel):
    last_modified = client.get(file_url(wheel))["Last-Modified"]
    response = client.get(file_url(wheel), headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=-10", "size-10", "size-1"),
        ("bytes=1000-", 1000, "size-1"),
        ("bytes=5-99999999", 5, "size-1"),
        ("BYTES = 3 - 4", 3, 4),
    ],
)
def test_single_range_gets_206_with_those_bytes(client, streamed_from, wheel, header, start, end):
    content = wheel.read_bytes()
    size = len(content)
    start = eval(start, {"size": size}) if isinstance(start, str) else start
    end = eval(end, {"size": size}) if isinstance(end, str) else end
    response = client.get(file_url(wheel), headers={"Range": header})
    assert response.status_code == 206
    assert body(response) == content[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response["Content-Length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=SIZE-", "bytes=SIZE-SIZE", "bytes=-0"])
def test_range_past_the_end_gets_416(client, streamed_from, wheel, header):
    size = wheel.stat().st_size
    response = client.get(file_url(wheel), headers={"Range": header.replace("SIZE", str(size))})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=9-5", "items=0-5", "bytes=x-y"])
def test_several_or_malformed_ranges_get_the_whole_file(client, streamed_from, wheel, header):
    response = client.get(file_url(wheel), headers={"Range": header})
    assert response.status_code == 200
    assert body(response) == wheel.read_bytes()


def test_range_is_honoured_only_while_if_range_names_the_file(client, streamed_from, wheel):
    etag = client.get(file_url(wheel))["ETag"]
    same = client.get(file_url(wheel), headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206
    other = client.get(file_url(wheel), headers={"Range": "bytes=0-9", "If-Range": '"0000"'})
    assert other.status_code == 200
    assert body(other) == wheel.read_bytes()


def test_range_applies_to_the_metadata_file(client, streamed_from, wheel):
    response = client.get(file_url(wheel) + ".metadata", headers={"Range": "bytes=0-15"})
    assert response.status_code == 206
    assert body(response) == wheel_metadata(wheel)[:16]


HEAD_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Accept-Ranges", "Content-Type")


@pytest.mark.parametrize("suffix", ["", ".metadata"])
def test_head_gets_the_headers_of_get_without_opening_the_blob(
    client, wheel, counted_opens, suffix
):
    url = file_url(wheel) + suffix
    response = client.head(url)
    assert counted_opens == []
    assert response.status_code == 200
    assert body(response) == b""
    expected = wheel.read_bytes() if not suffix else wheel_metadata(wheel)
    assert response["Content-Length"] == str(len(expected))

    got = client.get(url)
    assert len(counted_opens) == 1  # what the HEAD did not do
    assert body(got) == expected
    assert {h: response[h] for h in HEAD_HEADERS} == {h: got[h] for h in HEAD_HEADERS}
    assert response["Content-Length"] == got["Content-Length"]


def test_head_ignores_a_range_and_answers_the_whole_files_headers(client, wheel, counted_opens):
    response = client.head(file_url(wheel), headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response["Content-Length"] == str(wheel.stat().st_size)
    assert "Content-Range" not in response
    assert counted_opens == []


def test_head_of_a_file_missing_from_the_store_is_404(client, wheel, blob_store):
    dist = Distribution.objects.get()
    (blob_store / dist.metadata_blob_path).unlink()
    assert client.head(file_url(wheel) + ".metadata").status_code == 404


def test_head_with_x_accel_redirect_hands_over_as_get_does(client, wheel, settings, counted_opens):
    settings.PYPIMIRROR_X_ACCEL_REDIRECT = "/_store/"
    response = client.head(file_url(wheel))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_store/{Distribution.objects.get().blob_path}"
    assert response["ETag"] == client.get(file_url(wheel))["ETag"]
    assert counted_opens == []


def test_head_with_a_matching_etag_gets_304(client, wheel, counted_opens):
    etag = client.head(file_url(wheel))["ETag"]
    response = client.head(file_url(wheel), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert counted_opens == []


def test_files_are_not_gzipped_even_when_the_client_accepts_it(client, streamed_from, wheel):
    response = client.get(file_url(wheel), headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response
    assert response["Content-Length"] == str(wheel.stat().st_size)
    assert body(response) == wheel.read_bytes()
    metadata = client.get(file_url(wheel) + ".metadata", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in metadata
    assert body(metadata) == wheel_metadata(wheel)


def test_json_pages_are_still_gzipped(client, wheel):
    response = client.get("/pypi/foo/json", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).startswith(b"{")


def test_wrong_filename_under_a_real_hash_is_404(client, wheel):
    url = file_url(wheel)
    assert client.get(url.replace("foo-1.0", "bar-1.0")).status_code == 404


def test_uppercase_hash_is_404(client, wheel):
    head, _, name = file_url(wheel).rpartition("/")
    assert (
        client.get(head.upper().replace("/PACKAGES/", "/packages/") + "/" + name).status_code == 404
    )


def test_unknown_hash_is_404(client):
    assert client.get("/packages/ab/cd/" + "e" * 60 + "/foo-1.0.tar.gz").status_code == 404


def test_file_of_a_blocked_project_is_410_gone(client, wheel):
    services.project_set_blocked(project=Project.objects.get(), blocked=True)
    assert client.get(file_url(wheel)).status_code == 410
    assert client.get(file_url(wheel) + ".metadata").status_code == 410


def test_a_taken_down_file_and_its_metadata_and_provenance_are_410_gone(client, wheel):
    from apps.catalog.takedowns import takedown_create, takedown_lift

    url = file_url(wheel)
    provenance = f"/integrity/foo/1.0/{wheel.name}/provenance"
    takedown = takedown_create(name="foo", filename=wheel.name, reason="malware", actor="alice")

    for path in (url, url + ".metadata", provenance):
        response = client.get(path)
        assert response.status_code == 410, path
        assert b"taken down" in response.content
    assert client.head(url).status_code == 410
    assert client.get(url.replace(wheel.name, "foo-9.9-py3-none-any.whl")).status_code == 404

    takedown_lift(takedown_id=takedown.pk, actor="bob")
    assert client.get(url).status_code == 200
    assert client.get(provenance).status_code == 404  # served again, with no provenance


def test_a_blob_stored_in_pypis_layout_as_before_is_still_served(client, wheel, blob_store):
    dist = Distribution.objects.get()
    before = file_url_path(sha256=dist.sha256, filename=dist.filename)
    (blob_store / before).parent.mkdir(parents=True)
    (blob_store / dist.blob_path).rename(blob_store / before)
    (blob_store / f"{dist.blob_path}.metadata").rename(blob_store / f"{before}.metadata")
    Distribution.objects.filter(pk=dist.pk).update(blob_path=before)

    assert body(client.get(file_url(wheel))) == wheel.read_bytes()
    assert body(client.get(file_url(wheel) + ".metadata")) == wheel_metadata(wheel)


def test_the_storage_path_is_no_url(client, wheel):
    assert client.get("/" + Distribution.objects.get().blob_path).status_code == 404


def test_files_refuse_post(client, wheel):
    assert client.post(file_url(wheel)).status_code == 405


def test_x_accel_redirect_hands_the_blob_path_to_nginx(client, wheel, settings):
    settings.PYPIMIRROR_X_ACCEL_REDIRECT = "/_store/"
    response = client.get(file_url(wheel))
    assert response.status_code == 200
    stored = Distribution.objects.get().blob_path
    assert response["X-Accel-Redirect"] == f"/_store/{stored}"
    assert response["ETag"] == f'"{hashlib.sha256(wheel.read_bytes()).hexdigest()}"'
    assert response.content == b""


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_through_the_test_client_is_404(client, secret_beside_store, wheel, path):
    response = client.get(path)
    assert response.status_code == 404
    assert SECRET not in body(response)


def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET with the path exactly as written: no client-side normalization or quoting."""
    netloc = urlsplit(base_url)
    connection = http.client.HTTPConnection(netloc.hostname, netloc.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_traversal_over_real_http_never_reaches_outside_the_store(
    live_server, secret_beside_store, wheel
):
    for path in TRAVERSALS:
        status, content = raw_get(live_server.url, path)
        assert status in (400, 404), path
        assert SECRET not in content, path
    status, content = raw_get(live_server.url, file_url(wheel))
    assert (status, content) == (200, wheel.read_bytes())


def raw_head(base_url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """HEAD over a socket: the status, the headers, and whatever bytes follow them."""
    netloc = urlsplit(base_url)
    connection = http.client.HTTPConnection(netloc.hostname, netloc.port, timeout=10)
    try:
        connection.request("HEAD", path)
        response = connection.getresponse()
        headers = dict(response.getheaders())
        response.close()
        connection.sock.settimeout(0.5)
        try:
            trailing = connection.sock.recv(1024)
        except TimeoutError:
            trailing = b""
        return response.status, headers, trailing
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("suffix", ["", ".metadata"])
def test_head_over_real_http_sends_no_body_and_opens_no_blob(
    live_server, wheel, counted_opens, suffix
):
    url = file_url(wheel) + suffix
    status, headers, trailing = raw_head(live_server.url, url)
    assert (status, trailing) == (200, b"")
    expected = wheel.read_bytes() if not suffix else wheel_metadata(wheel)
    assert headers["Content-Length"] == str(len(expected))
    assert headers["ETag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
    assert counted_opens == []
    status, content = raw_get(live_server.url, url)
    assert (status, content) == (200, expected)
    assert counted_opens != []


# The path parser alone (apps.index.files.file_path_parse), fuzzed (issue 12).


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("bytes=" + " " * 1600 + "-" + " " * 1600 + "x", "longer than 1024"),  # finding 1
        ("bytes=" + "9" * 5000 + "-", "longer than 1024"),  # finding 2
        ("bytes=" + "9" * 21 + "-", "more than 20 digits"),
        ("bytes=" + "0-1," * 17, "more than 16 ranges"),
    ],
)
def test_excessive_range_gets_416_saying_why(client, wheel, header, reason):
    size = wheel.stat().st_size
    response = client.get(file_url(wheel), headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert reason in response.content.decode()
