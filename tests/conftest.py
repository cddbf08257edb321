import pytest


@pytest.fixture(autouse=True)
def blob_store(settings, tmp_path):
    """Each test gets its own, empty blob store and temporary directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {**settings.STORAGES["blobs"], "OPTIONS": {"location": str(tmp_path / "store")}},
    }
    settings.TMP_DIR = tmp_path / "tmp"
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache (the memory cache of this process): cached pages and
    documents, the API's throttle counts and the index's kept project refs do not leak from one
    test into the next."""
    from django.core.cache import cache

    from apps.index.selectors import project_refs_forget

    cache.clear()
    project_refs_forget()  # the project refs this process kept, of a database since emptied
    yield


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback, one for the session (tests/support/s3.py)."""
    from tests.support.s3 import moto_server

    with moto_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server, settings):
    """The blob store in a new bucket of the loopback S3 server; its name."""
    from tests.support.s3 import s3_blob_storage_settings

    bucket = s3_server.bucket_create()
    settings.STORAGES = {**settings.STORAGES, "blobs": s3_blob_storage_settings(s3_server, bucket)}
    return bucket


@pytest.fixture(params=["disk", "s3"])
def store(request, blob_store):
    """The blob store on local disk, then in an S3 bucket: a test taking it runs against both
    (tests/support/blobstores.py)."""
    from tests.support.blobstores import DiskStore, S3Store

    if request.param == "disk":
        return DiskStore(blob_store)
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(server.client(), bucket)
