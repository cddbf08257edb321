"""Files on S3, what the node asks of S3: a Range streamed is one GET; an S3 that cannot
answer is a 503 with Retry-After, logged once with the reason and telling the client nothing of
the bucket or the credentials. Against the loopback S3 server (a bucket it does not have), a
closed port (S3 down) and no credentials at all (a redirect cannot be signed); the requests are
counted by an event hook on the node's own boto3 client, no part of which is replaced."""

import logging

import pytest

from apps.catalog.blobstore import blob_storage
from tests.support.dists import DistSpec
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, blobs_options, closed_port_url

from .test_files import body, file_url, wheel_metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def wheel(s3_bucket, publish):
    (path,) = publish(DistSpec("foo", "1.0", padding=5000), sdist=False)
    return path


def assert_unavailable(response, *, names: tuple[str, ...]) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = body(response).decode()
    assert "try again later" in text
    for secret in (ACCESS_KEY, SECRET_KEY, *names):
        assert secret not in text


def store_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_bucket_s3_does_not_have_is_503_logged_once_with_the_reason(
    client, wheel, settings, caplog
):
    blobs_options(settings, bucket_name="pm-no-such-bucket", serve="stream")

    response = client.get(file_url(wheel))

    assert_unavailable(response, names=("pm-no-such-bucket",))
    (record,) = store_errors(caplog)  # not again as django.request's "Service Unavailable"
    assert record.name == "apps.index.views.files"
    assert "NoSuchBucket (HTTP 404)" in record.getMessage()
    assert record.exc_info is None


def test_an_s3_that_is_down_is_503_for_files_and_metadata_but_head_needs_no_s3(
    client, wheel, settings, caplog, s3_bucket
):
    endpoint = closed_port_url()
    blobs_options(settings, endpoint_url=endpoint, serve="stream")

    assert_unavailable(client.get(file_url(wheel)), names=(s3_bucket, endpoint))
    assert_unavailable(client.get(file_url(wheel) + ".metadata"), names=(s3_bucket,))
    assert client.head(file_url(wheel) + ".metadata").status_code == 503  # its size is S3's
    assert client.head(file_url(wheel)).status_code == 200  # the catalog's row answers
    reasons = [r.getMessage() for r in store_errors(caplog)]
    assert len(reasons) == 3
    assert all("EndpointConnectionError" in reason for reason in reasons)


def test_a_redirect_without_credentials_to_sign_it_is_503(
    client, wheel, settings, caplog, monkeypatch, tmp_path
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    blobs_options(settings, access_key=None, secret_key=None, serve="redirect")

    response = client.get(file_url(wheel))

    assert_unavailable(response, names=())
    (record,) = store_errors(caplog)
    assert "NoCredentialsError" in record.getMessage()


@pytest.fixture
def gets(settings, wheel) -> list[str | None]:
    """Stream mode; the Range header of each GetObject the node sends S3 (None: no Range)."""
    blobs_options(settings, serve="stream")
    sent = []

    def record(request, **kwargs) -> None:
        header = request.headers.get("Range")
        sent.append(header.decode() if isinstance(header, bytes) else header)

    client = blob_storage().connection.meta.client
    client.meta.events.register("before-send.s3.GetObject", record)
    yield sent
    client.meta.events.unregister("before-send.s3.GetObject", record)


@pytest.mark.parametrize(
    ("header", "sent"),
    [("bytes=100-199", "bytes=100-199"), ("bytes=-10", "bytes=SIZE-10-SIZE-1"), (None, None)],
)
def test_a_streamed_file_is_one_get_of_just_the_bytes_asked(client, wheel, gets, header, sent):
    content = wheel.read_bytes()
    size = len(content)
    asked = {"Range": header} if header else {}

    response = client.get(file_url(wheel), headers=asked)

    got = body(response)
    assert response.status_code == (206 if header else 200)
    if sent:
        sent = sent.replace("SIZE-10", str(size - 10)).replace("SIZE-1", str(size - 1))
        start, end = (int(n) for n in sent.removeprefix("bytes=").split("-"))
        assert got == content[start : end + 1]
    else:
        assert got == content
    assert gets == [sent]


def test_a_range_of_a_metadata_file_is_its_one_get_read_up_to_the_range(client, wheel, gets):
    response = client.get(file_url(wheel) + ".metadata", headers={"Range": "bytes=20-39"})

    assert response.status_code == 206
    assert body(response) == wheel_metadata(wheel)[20:40]
    assert gets == [None]  # its size is S3's: the open's GET, then read on to byte 20
