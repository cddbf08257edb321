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
    documents, and the API's throttle counts, do not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
