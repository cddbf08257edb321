"""``verify --repair`` against a live upstream on loopback, on disk and on S3: a corrupted and a
deleted blob are fetched again (checked like any download) and put back; a file the upstream
cannot give is hidden from the index, journaled, and a later repair brings it back."""

import hashlib

import pytest

from apps.catalog.models import Distribution, JournalEntry
from apps.verification.models import Finding, VerifyRun
from tests.replication.test_sync_command import manage
from tests.support.upstream import Fault

from .test_verify_command import verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(server, upstream, store):
    """Two projects synced from the upstream into the store, on disk and on S3."""
    for name in ("alpha", "beta"):
        upstream.add_release(name, "1.0")
    upstream.write()
    assert manage("sync", server.url) == 0
    return store


def sha256_of(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def test_repair_restores_a_corrupted_and_a_deleted_blob_from_the_upstream(synced, client):
    wheel = Distribution.objects.get(project__normalized_name="alpha", packagetype="bdist_wheel")
    sdist = Distribution.objects.get(project__normalized_name="beta", packagetype="sdist")
    synced.write(wheel.blob_path, b"rotten" * 100)
    synced.delete(sdist.blob_path)
    serial = JournalEntry.objects.latest("id").pk

    status, output = verify("--repair")

    assert status == 0, output
    assert sha256_of(synced.read(wheel.blob_path)) == wheel.sha256
    assert sha256_of(synced.read(sdist.blob_path)) == sdist.sha256
    assert set(Finding.objects.values_list("kind", "repair")) == {
        ("corrupt", "restored"),
        ("missing", "restored"),
    }
    assert JournalEntry.objects.latest("id").pk == serial  # nothing left the index
    assert "2 restored" in output
    response = client.get(
        f"/packages/{wheel.sha256[:2]}/{wheel.sha256[2:4]}/{wheel.sha256[4:]}/{wheel.filename}"
    )
    assert response.status_code == (302 if synced.kind == "s3" else 200)  # S3: to the object
    assert verify()[0] == 0


def test_a_file_the_upstream_cannot_give_is_hidden_until_a_later_repair(synced, server, client):
    sdist = Distribution.objects.get(project__normalized_name="alpha", packagetype="sdist")
    synced.delete(sdist.blob_path)
    server.add_fault(Fault(status=503), project="alpha", kind="file")

    status, output = verify("--repair")

    assert status == 1, output
    finding = Finding.objects.get()
    assert (finding.kind, finding.repair) == ("missing", "hidden")
    assert "HTTP 503" in finding.repair_detail
    assert not Distribution.objects.filter(filename=sdist.filename).exists()
    removal = JournalEntry.objects.latest("id")
    assert (removal.normalized_name, removal.action) == ("alpha", f"remove file {sdist.filename}")
    page = client.get("/simple/alpha/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()
    assert sdist.filename not in {f["filename"] for f in page["files"]}

    server.clear_faults()
    status, output = verify("--repair")

    assert status == 0, output
    back = Distribution.objects.get(filename=sdist.filename)
    assert sha256_of(synced.read(back.blob_path)) == sdist.sha256
    finding.refresh_from_db()
    assert finding.repair == "restored"
    assert f"verify #{VerifyRun.objects.order_by('pk').last().pk}" in finding.repair_detail
    added = JournalEntry.objects.latest("id")
    assert added.pk > removal.pk and sdist.filename in added.action
    page = client.get("/simple/alpha/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()
    assert sdist.filename in {f["filename"] for f in page["files"]}


def test_a_hidden_file_comes_back_with_its_projects_next_sync(synced, server, upstream):
    sdist = Distribution.objects.get(project__normalized_name="alpha", packagetype="sdist")
    synced.delete(sdist.blob_path)
    server.add_fault(Fault(status=503), project="alpha", kind="file")
    assert verify("--repair")[0] == 1
    server.clear_faults()
    upstream.add_release("alpha", "2.0")  # a change upstream: the next sync reads alpha
    upstream.write()

    assert manage("sync", server.url) == 0

    back = Distribution.objects.get(filename=sdist.filename)
    assert sha256_of(synced.read(back.blob_path)) == sdist.sha256
    status, output = verify("--repair")
    assert status == 0, output
    finding = Finding.objects.get()
    assert (finding.repair, finding.kind) == ("restored", "missing")
    assert "a sync fetched it" in finding.repair_detail
