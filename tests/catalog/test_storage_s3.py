"""The blob store's S3 backend against the loopback S3 server: what an upload stores beside
the bytes, and reads that stream (the blob store's own tests run on S3 too: ``store``)."""

import hashlib
import io
import os
import tracemalloc

import pytest

from apps.catalog.blobstore import blob_put_file, blob_storage, provenance_put
from apps.catalog.storage_s3 import BlobS3Storage
from apps.verification.hashing import blob_digest


def test_objects_are_stored_as_opaque_immutable_bytes(s3_server, s3_bucket):
    verified = blob_put_file(io.BytesIO(b"sdist" * 100), filename="a-1.0.tar.gz")
    provenance = provenance_put(b'{"version": 1}')

    client = s3_server.client()
    sdist = client.head_object(Bucket=s3_bucket, Key=verified.blob_path)
    # mimetypes calls a .tar.gz gzip-encoded: S3 would then say so, and clients unpack it.
    assert sdist["ContentType"] == "application/octet-stream"
    assert "ContentEncoding" not in sdist
    assert sdist["CacheControl"] == "public, max-age=31536000, immutable"
    document = client.head_object(
        Bucket=s3_bucket, Key=f"provenance/{provenance[:2]}/{provenance[2:]}.json"
    )
    assert document["ContentType"] == "application/vnd.pypi.integrity.v1+json"


def test_hashing_an_object_streams_it_in_bounded_memory(s3_server, s3_bucket):
    data = os.urandom(12 * 1024 * 1024)
    s3_server.client().put_object(Bucket=s3_bucket, Key="packages/ab/big.tar.gz", Body=data)
    # The first request loads botocore's service models (some MB, once per process).
    assert blob_digest(blob_storage(), "packages/ab/missing.tar.gz") is None

    tracemalloc.start()
    try:
        digest = blob_digest(blob_storage(), "packages/ab/big.tar.gz")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (digest.sha256, digest.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert peak < 4 * 1024 * 1024  # a few chunks in flight, never the 12 MB object


def test_a_read_after_a_seek_starts_there(s3_server, s3_bucket):
    data = bytes(range(256)) * 40
    s3_server.client().put_object(Bucket=s3_bucket, Key="packages/ab/x.whl", Body=data)

    with blob_storage().open("packages/ab/x.whl") as blob:
        assert blob.size == len(data)
        assert blob.read(10) == data[:10]
        blob.seek(5000)
        assert blob.read(100) == data[5000:5100]
        assert blob.read() == data[5100:]
        blob.seek(0, os.SEEK_END)
        assert blob.read() == b""


def test_an_object_opened_for_a_range_reads_on_past_it_and_back(s3_server, s3_bucket):
    data = bytes(range(256)) * 40
    s3_server.client().put_object(Bucket=s3_bucket, Key="packages/ab/x.whl", Body=data)

    with blob_storage().open_range("packages/ab/x.whl", start=1000, end=1009) as blob:
        assert (blob.size, blob.tell()) == (len(data), 1000)  # from the ranged GET's answer
        assert blob.read() == data[1000:1010]  # the range's bytes, not a wait for more
        assert blob.read(20) == data[1010:1030]  # past it: another GET
        blob.seek(0)
        assert blob.read() == data


def test_blobs_are_never_opened_for_writing_nor_served_by_an_unknown_mode(s3_bucket):
    with pytest.raises(ValueError, match="never opened for writing"):
        blob_storage().open("packages/ab/x.whl", "wb")
    with pytest.raises(ValueError, match="redirect, stream"):
        BlobS3Storage(bucket_name=s3_bucket, serve="proxy")
