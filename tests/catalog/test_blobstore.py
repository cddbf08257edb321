import hashlib
import io
from pathlib import Path

import pytest

from apps.catalog import blobstore
from apps.catalog import storage as storage_module
from apps.catalog.blobstore import (
    BlobError,
    BlobWriter,
    blob_path,
    blob_put_file,
    blob_storage,
    file_url_path,
    metadata_put,
    validate_filename,
)

DATA = b"wheel bytes" * 1000
SHA256 = hashlib.sha256(DATA).hexdigest()


def test_blob_path_is_content_addressed_in_256_folders():
    assert blob_path(sha256=SHA256, filename="a-1.0.tar.gz") == (
        f"packages/{SHA256[:2]}/{SHA256[2:]}-a-1.0.tar.gz"
    )


def test_a_filename_too_long_for_the_flat_name_keeps_pypis_layout():
    # The metadata file's name, the longest, must fit in one path component (255 bytes).
    fits, too_long = "a" * (255 - 63 - len(".metadata")), "a" * (256 - 63 - len(".metadata"))
    assert blob_path(sha256=SHA256, filename=fits) == f"packages/{SHA256[:2]}/{SHA256[2:]}-{fits}"
    assert blob_path(sha256=SHA256, filename=too_long) == file_url_path(
        sha256=SHA256, filename=too_long
    )
    assert file_url_path(sha256=SHA256, filename="a-1.0.tar.gz") == (
        f"packages/{SHA256[:2]}/{SHA256[2:4]}/{SHA256[4:]}/a-1.0.tar.gz"
    )


@pytest.mark.parametrize(
    "filename",
    ["../x.whl", "a/b.whl", "a\\b.whl", "..", ".hidden.whl", "a\x00.whl", "", "x" * 256],
)
def test_validate_filename_rejects_unsafe_names(filename):
    with pytest.raises(BlobError):
        validate_filename(filename)


def test_blob_path_rejects_a_non_hex_digest():
    with pytest.raises(BlobError):
        blob_path(sha256="../" + "a" * 61, filename="a.whl")


def test_put_file_stores_the_bytes_with_every_digest(store, settings):
    verified = blob_put_file(io.BytesIO(DATA), filename="a-1.0.tar.gz", expected_sha256=SHA256)
    assert verified.sha256 == SHA256
    assert verified.md5 == hashlib.md5(DATA).hexdigest()
    assert verified.blake2b_256 == hashlib.blake2b(DATA, digest_size=32).hexdigest()
    assert verified.size == len(DATA)
    assert store.read(verified.blob_path) == DATA
    assert store.names() == [verified.blob_path]
    assert list(settings.TMP_DIR.iterdir()) == []  # moved, or uploaded and removed


def test_wrong_sha256_stores_nothing(store, settings):
    with pytest.raises(BlobError, match="does not match"):
        blob_put_file(io.BytesIO(DATA), filename="a-1.0.tar.gz", expected_sha256="0" * 64)
    assert store.names() == []
    assert not any(settings.TMP_DIR.iterdir())


def test_writer_stops_at_once_when_more_bytes_than_expected_arrive(settings):
    with BlobWriter(filename="a-1.0.tar.gz", expected_size=10) as writer:
        writer.write(b"x" * 10)
        with pytest.raises(BlobError, match="more than the 10 bytes"):
            writer.write(b"x")
    assert not any(settings.TMP_DIR.iterdir())


def test_truncated_body_is_refused():
    with BlobWriter(filename="a-1.0.tar.gz", expected_size=100) as writer:
        writer.write(b"x" * 50)
        with pytest.raises(BlobError, match="50 bytes received, 100 expected"):
            writer.commit()


def test_storing_the_same_bytes_twice_keeps_one_blob(store):
    first = blob_put_file(io.BytesIO(DATA), filename="a-1.0.tar.gz")
    second = blob_put_file(io.BytesIO(DATA), filename="a-1.0.tar.gz")
    assert first == second
    assert store.names() == [first.blob_path]


def test_a_partial_blob_left_by_a_crash_is_replaced(store):
    path = blob_path(sha256=SHA256, filename="a-1.0.tar.gz")
    store.write(path, DATA[:10])
    blob_put_file(io.BytesIO(DATA), filename="a-1.0.tar.gz")
    assert store.read(path) == DATA


def test_metadata_is_stored_beside_its_file(store):
    verified = blob_put_file(io.BytesIO(DATA), filename="a-1.0-py3-none-any.whl")
    sha = metadata_put(blob_path=verified.blob_path, data=b"Metadata-Version: 2.1\n")
    assert sha == hashlib.sha256(b"Metadata-Version: 2.1\n").hexdigest()
    with blob_storage().open(verified.blob_path + ".metadata") as f:
        assert f.read() == b"Metadata-Version: 2.1\n"
    assert store.read(verified.blob_path + ".metadata") == b"Metadata-Version: 2.1\n"


def test_metadata_with_a_wrong_hash_is_refused():
    with pytest.raises(BlobError):
        metadata_put(blob_path="packages/x", data=b"abc", expected_sha256="0" * 64)


def test_stored_files_are_readable_by_the_web_server_and_leave_nothing_staged(blob_store, settings):
    verified = blob_put_file(io.BytesIO(DATA), filename="a-1.0-py3-none-any.whl")
    metadata_put(blob_path=verified.blob_path, data=b"Metadata-Version: 2.1\n")

    for name in (verified.blob_path, verified.blob_path + ".metadata"):
        assert (blob_store / name).stat().st_mode & 0o777 == 0o644
    assert list(settings.TMP_DIR.iterdir()) == []


def test_a_save_that_fails_leaves_no_partial_file(store, settings):
    class Broken(io.BytesIO):
        def chunks(self):  # how the disk's storage reads it
            yield b"half"
            raise OSError("disk gone")

        def read(self, size=-1):  # how S3's upload reads it
            if self.tell():
                raise OSError("disk gone")
            return super().read(4)

    with pytest.raises(OSError, match="disk gone"):
        blob_storage().save("packages/aa/bb/cc/x.metadata", Broken(b"half and more"))
    assert store.names() == []
    assert not settings.TMP_DIR.exists() or list(settings.TMP_DIR.iterdir()) == []


def test_a_small_file_is_kept_in_memory_too_and_a_big_one_only_on_disk(monkeypatch):
    monkeypatch.setattr(blobstore, "KEEP_IN_MEMORY", 8)
    with BlobWriter(filename="a-1.0.tar.gz", keep_small=True) as small:
        small.write(b"1234")
        small.write(b"5678")
        assert small.content == b"12345678"
    with BlobWriter(filename="a-1.0.tar.gz", keep_small=True) as big:
        big.write(b"12345678")
        big.write(b"9")
        big.verify()
        assert big.content is None
        assert Path(big.path).read_bytes() == b"123456789"
    with BlobWriter(filename="a-1.0.tar.gz") as unasked:
        unasked.write(b"1234")
        assert unasked.content is None


def test_a_metadata_save_that_fails_leaves_nothing(blob_store, settings, monkeypatch):
    verified = blob_put_file(io.BytesIO(DATA), filename="a-1.0-py3-none-any.whl")

    def fails(fd, mode):  # after the bytes were written to the staged file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_module.os, "fchmod", fails)
    with pytest.raises(OSError, match="No space"):
        metadata_put(blob_path=verified.blob_path, data=b"Metadata-Version: 2.1\n")
    assert not (blob_store / f"{verified.blob_path}.metadata").exists()
    assert list(settings.TMP_DIR.iterdir()) == []
