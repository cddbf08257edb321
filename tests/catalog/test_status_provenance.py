"""PEP 792 project status and PEP 740 provenance in the catalog: journaled, content-addressed."""

import hashlib
import json

import pytest
from django.db import transaction

from apps.catalog import services
from apps.catalog.blobstore import (
    MAX_PROVENANCE_SIZE,
    BlobError,
    blob_put_file,
    blob_storage,
    provenance_blob_path,
    provenance_put,
)
from apps.catalog.models import Distribution, JournalEntry, Project
from tests.support.dists import DistSpec, build_wheel

pytestmark = pytest.mark.django_db

DOCUMENT = json.dumps({"version": 1, "attestation_bundles": []}).encode()


def set_status(name: str, status: str, reason: str = "") -> bool:
    with transaction.atomic():
        project = services.project_lock(name=name, create=True)
        return services.project_set_index_status(project=project, status=status, reason=reason)


def test_a_status_change_is_journaled_and_moves_the_serial():
    assert set_status("foo", "archived", "moved to bar")
    project = Project.objects.get()
    entry = JournalEntry.objects.latest("id")
    assert (project.index_status, project.index_status_reason) == ("archived", "moved to bar")
    assert (entry.action, entry.version) == ("project status archived", None)
    assert project.last_serial == entry.id
    assert project.status == Project.Status.ACTIVE  # the node's own state is apart


def test_setting_the_same_status_writes_nothing():
    set_status("foo", "deprecated")
    serial = JournalEntry.objects.latest("id").id
    assert not set_status("foo", "deprecated")
    assert JournalEntry.objects.latest("id").id == serial


def test_a_status_pep_792_does_not_define_is_refused():
    set_status("foo", "active")
    serial = JournalEntry.objects.latest("id").id
    with pytest.raises(services.CatalogError, match="not a project status"):
        set_status("foo", "abandoned")
    assert Project.objects.get().index_status == "active"
    assert JournalEntry.objects.latest("id").id == serial


def test_provenance_is_stored_by_its_sha256_and_published_with_the_file(tmp_path):
    sha256 = provenance_put(DOCUMENT)
    assert sha256 == hashlib.sha256(DOCUMENT).hexdigest()
    with blob_storage().open(provenance_blob_path(sha256), "rb") as stored:
        assert stored.read() == DOCUMENT
    path = build_wheel(DistSpec("foo", "1.0"), tmp_path)
    with path.open("rb") as handle:
        verified = blob_put_file(handle, filename=path.name)
    with transaction.atomic():
        project = services.project_lock(name="foo", create=True)
        new = services.NewDistribution(
            file=verified, version="1.0", packagetype="bdist_wheel", provenance_sha256=sha256
        )
        services.distribution_publish(project=project, new=new)
    assert Distribution.objects.get().provenance_sha256 == sha256


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not JSON"),
        (b'{"a": "' + b"x" * MAX_PROVENANCE_SIZE + b'"}', "larger than"),
    ],
)
def test_a_document_that_is_no_provenance_is_not_stored(data, error, blob_store):
    with pytest.raises(BlobError, match=error):
        provenance_put(data)
    assert not (blob_store / "provenance").exists()


def test_provenance_given_later_is_journaled_once_and_never_replaced(tmp_path):
    path = build_wheel(DistSpec("foo", "1.0"), tmp_path)
    with path.open("rb") as handle:
        verified = blob_put_file(handle, filename=path.name)
    with transaction.atomic():
        project = services.project_lock(name="foo", create=True)
        new = services.NewDistribution(file=verified, version="1.0", packagetype="bdist_wheel")
        distribution = services.distribution_publish(project=project, new=new)
    sha256 = provenance_put(DOCUMENT)

    with transaction.atomic():
        services.project_lock(name="foo")
        assert services.distribution_set_provenance(distribution=distribution, sha256=sha256)
    entry = JournalEntry.objects.latest("id")
    assert (entry.action, entry.version) == (f"add provenance {path.name}", "1.0")
    assert Project.objects.get().last_serial == entry.id

    other = provenance_put(b'{"version": 1}')
    assert not services.distribution_set_provenance(distribution=distribution, sha256=other)
    assert Distribution.objects.get().provenance_sha256 == sha256
    assert JournalEntry.objects.latest("id").id == entry.id
