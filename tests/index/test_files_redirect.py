"""Files on S3 with ``PYPIMIRROR_S3_SERVE=redirect`` (the default there): the node checks the
request as for any file, then answers 302 to a presigned URL of the object, and the client
gets the bytes from S3 itself (the loopback S3 server here). Streaming (``stream``) runs the
file tests of test_files.py (``streamed_from``)."""

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.catalog.models import Distribution
from tests.support.dists import DistSpec

from .test_files import file_url, wheel_metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def wheel(s3_bucket, publish):
    (path,) = publish(DistSpec("foo", "1.0", padding=5000), sdist=False)
    return path


def test_a_file_is_a_redirect_to_a_presigned_url_of_its_object(client, wheel, s3_server):
    response = client.get(file_url(wheel))

    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"
    location = response["Location"]
    assert location.startswith(f"{s3_server.url}/")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.content == wheel.read_bytes()
    assert hashlib.sha256(fetched.content).hexdigest() == Distribution.objects.get().sha256
    # S3 sends what the upload stored: the bytes as they are, never "gzip" for a .tar.gz.
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert "Content-Encoding" not in fetched.headers


def test_the_metadata_file_and_a_range_come_from_s3_too(client, wheel):
    metadata = client.get(file_url(wheel) + ".metadata")
    assert metadata.status_code == 302
    assert httpx.get(metadata["Location"]).content == wheel_metadata(wheel)

    ranged = httpx.get(client.get(file_url(wheel))["Location"], headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.content == wheel.read_bytes()[:10]


def test_head_is_a_redirect_to_a_url_signed_for_head(client, wheel):
    response = client.head(file_url(wheel))

    assert response.status_code == 302
    answer = httpx.head(response["Location"])
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == str(wheel.stat().st_size)
    # (moto checks no signature; S3 refuses a GET of a URL signed for HEAD)
    assert (
        parse_qs(urlsplit(response["Location"]).query)["X-Amz-Signature"]
        != parse_qs(urlsplit(client.get(file_url(wheel))["Location"]).query)["X-Amz-Signature"]
    )


def test_a_matching_etag_is_answered_by_the_node_without_a_redirect(client, wheel):
    etag = f'"{Distribution.objects.get().sha256}"'
    response = client.get(file_url(wheel), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert "Location" not in response


def test_a_file_the_catalog_does_not_name_is_404_not_a_redirect(client, wheel):
    url = file_url(wheel)
    assert client.get(url.replace(wheel.name, "foo-2.0-py3-none-any.whl")).status_code == 404
