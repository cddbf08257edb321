"""Takedowns through real syncs (Warehouse-shaped upstream on loopback): a taken-down file or
release is neither fetched nor published again while the takedown stands, a taken-down project
is not even asked for, and a lift has the project read afresh at the next sync, which brings
back what the store could not."""

import pytest

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution, Project
from apps.catalog.takedowns import takedown_create, takedown_lift
from apps.replication.models import ProjectSyncState

from .helpers import sync

pytestmark = pytest.mark.django_db(transaction=True)

WHEEL = "foo-1.0-py3-none-any.whl"


def filenames() -> list[str]:
    return sorted(Distribution.objects.values_list("filename", flat=True))


def fetched(server) -> list[str]:
    return sorted(r.path.rsplit("/", 1)[-1] for r in server.requests(kind="file"))


@pytest.fixture
def synced(server, upstream):
    upstream.add_release("foo", "1.0")
    upstream.add_release("foo", "2.0")
    upstream.write()
    assert sync(server).state == "succeeded"
    server.clear_requests()
    return server


def test_a_taken_down_file_is_not_fetched_nor_brought_back_by_later_syncs(synced, upstream):
    takedown_create(name="foo", filename=WHEEL, reason="malware", actor="alice")
    upstream.add_release("foo", "3.0")  # the project changes upstream: it is read again
    upstream.write()

    run = sync(synced)

    assert run.state == "succeeded", run.errors
    assert WHEEL not in filenames()
    assert "foo-3.0-py3-none-any.whl" in filenames()
    assert WHEEL not in fetched(synced)


def test_a_taken_down_release_stays_gone_after_syncs(synced, upstream):
    takedown_create(name="foo", version="1.0", reason="legal request", actor="alice")
    upstream.add_release("foo", "3.0")
    upstream.write()

    assert sync(synced).state == "succeeded"

    assert filenames() == sorted(
        ["foo-2.0-py3-none-any.whl", "foo-2.0.tar.gz", "foo-3.0-py3-none-any.whl", "foo-3.0.tar.gz"]
    )
    assert not [name for name in fetched(synced) if "-1.0" in name]


def test_a_taken_down_project_is_not_asked_for_and_stays_blocked(synced, upstream):
    takedown_create(name="foo", reason="malware", actor="alice")
    upstream.add_release("foo", "3.0")
    upstream.write()

    assert sync(synced).state == "succeeded"

    assert synced.requested_projects() == set()
    assert Project.objects.get().status == Project.Status.BLOCKED
    assert "foo-3.0.tar.gz" not in filenames()


def test_lift_has_the_next_sync_bring_back_what_the_store_lost(synced):
    takedown = takedown_create(name="foo", filename=WHEEL, reason="malware", actor="alice")
    blob_storage().delete(takedown.files.get().blob_path)  # a lift cannot put it back itself
    assert takedown_lift(takedown_id=takedown.pk, actor="bob").restored == []
    state = ProjectSyncState.objects.get(normalized_name="foo")
    assert state.serial_reached < state.serial_wanted  # read afresh, though nothing moved

    assert sync(synced).state == "succeeded"

    assert WHEEL in filenames()
    assert fetched(synced) == [WHEEL]


def test_lift_of_a_project_has_the_next_sync_catch_up(synced, upstream):
    takedown = takedown_create(name="foo", reason="malware", actor="alice")
    upstream.add_release("foo", "3.0")
    upstream.write()
    sync(synced)  # blocked: left alone

    takedown_lift(takedown_id=takedown.pk, actor="bob")
    assert sync(synced).state == "succeeded"

    assert "foo-3.0.tar.gz" in filenames()
    assert Project.objects.get().status == Project.Status.ACTIVE
