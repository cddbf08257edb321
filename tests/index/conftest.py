"""Fixtures shared by the index tests: real distributions, published the way import_dists does."""

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from apps.catalog.importing import Outcome, distribution_import
from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.storages import OpenCountingBlobStorage


@pytest.fixture
def publish(tmp_path) -> Callable[..., list[Path]]:
    """``publish(*specs, wheel=True, sdist=True)``: build each spec's files and import them.

    Returns the built files, in import order; every import must succeed.
    """
    batches = itertools.count()

    def _publish(*specs: DistSpec, wheel: bool = True, sdist: bool = True) -> list[Path]:
        directory = tmp_path / f"dists-{next(batches)}"
        directory.mkdir()
        paths = []
        for spec in specs:
            if wheel:
                paths.append(build_wheel(spec, directory))
            if sdist:
                paths.append(build_sdist(spec, directory))
        for path in paths:
            result = distribution_import(path)
            assert result.outcome is Outcome.ADDED, f"{path.name}: {result.detail}"
        return paths

    return _publish


@pytest.fixture
def counted_opens(settings, blob_store) -> list[str]:
    """The blob storage, still the real one on disk, records each name it opens: the list."""
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {
            **settings.STORAGES["blobs"],
            "BACKEND": "tests.support.storages.OpenCountingBlobStorage",
        },
    }
    OpenCountingBlobStorage.opened.clear()
    yield OpenCountingBlobStorage.opened
    OpenCountingBlobStorage.opened.clear()


@pytest.fixture(params=["disk", "s3"])
def streamed_from(request, settings, blob_store) -> str:
    """The blob store on disk, then in S3 with the node streaming the objects
    (``PYPIMIRROR_S3_SERVE=stream``): a test taking it (before the files it publishes) serves
    from both. Which one, by name."""
    if request.param == "s3":
        request.getfixturevalue("s3_bucket")
        blobs = settings.STORAGES["blobs"]
        settings.STORAGES = {
            **settings.STORAGES,
            "blobs": {**blobs, "OPTIONS": {**blobs["OPTIONS"], "serve": "stream"}},
        }
    return request.param
