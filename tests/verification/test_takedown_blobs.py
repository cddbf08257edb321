"""Verify and takedowns: the blobs a standing takedown keeps for its lift (a file, its PEP 658
metadata, its PEP 740 provenance) are neither checked nor orphans, so ``--delete-orphans``
leaves them; once lifted, they are the file's again."""

import pytest

from apps.catalog.blobstore import metadata_put, provenance_blob_path, provenance_put
from apps.catalog.models import Distribution
from apps.catalog.services import distribution_set_provenance
from apps.catalog.takedowns import takedown_create, takedown_lift

from .test_verify_command import age, verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_blobs_a_takedown_keeps_are_no_orphans_and_serve_its_lift(blob_store):
    from tests.support.stores import store_fill

    store_fill(files=3, size=1000, projects=1)
    dist = Distribution.objects.order_by("pk").first()
    sha = metadata_put(blob_path=dist.blob_path, data=b"Metadata-Version: 2.1\nName: x\n")
    Distribution.objects.filter(pk=dist.pk).update(core_metadata_sha256=sha)
    distribution_set_provenance(distribution=dist, sha256=provenance_put(b'{"v": 1}'))
    dist.refresh_from_db()
    kept = [
        dist.blob_path,
        f"{dist.blob_path}.metadata",
        provenance_blob_path(dist.provenance_sha256),
    ]
    takedown = takedown_create(
        name=dist.project.name, filename=dist.filename, reason="malware", actor="alice"
    )
    for path in blob_store.rglob("*"):
        if path.is_file():
            age(path)  # older than a sync's file in flight: an orphan if no row named it

    status, output = verify("--delete-orphans")

    assert status == 0, output
    assert all((blob_store / path).exists() for path in kept)
    assert takedown_lift(takedown_id=takedown.pk, actor="bob").restored == [dist.filename]
    assert verify()[0] == 0
