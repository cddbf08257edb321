"""A batch a worker's task cannot check (the store stopped answering) fails the verify run at
once, rather than leaving it to wait for a batch no worker will finish."""

import pytest

from apps.catalog.models import Distribution
from apps.verification.models import VerifyBatch, VerifyRun
from apps.verification.runner import BatchFailed, _wait_for_batches
from apps.verification.services import batches_create
from apps.verification.tasks import verify_batch
from tests.support.s3 import blobs_options, closed_port_url
from tests.support.stores import store_fill

pytestmark = pytest.mark.django_db


def test_a_batch_the_store_cannot_answer_fails_its_run(s3_bucket, settings):
    store_fill(files=3, size=1000)
    ids = sorted(Distribution.objects.values_list("id", flat=True))
    run = VerifyRun.objects.create(files_total=3)
    (batch,) = batches_create(run=run, ranges=[(ids[0], ids[-1])])
    blobs_options(settings, endpoint_url=closed_port_url())  # S3 down

    with pytest.raises(Exception, match=r"EndpointConnectionError|Could not connect"):
        verify_batch(batch.pk)  # as a worker runs it: the task fails, and says why

    batch.refresh_from_db()
    assert not batch.done
    assert "Could not connect" in batch.error or "EndpointConnectionError" in batch.error
    with pytest.raises(BatchFailed, match=f"files {ids[0]}-{ids[-1]}"):
        _wait_for_batches(run, [batch], progress=lambda run: None, workers_available=lambda: True)
    run.refresh_from_db()
    assert run.cursor == 0  # nothing counted as checked: the next verify takes it again


def test_batches_done_move_the_cursor_in_order(blob_store):
    store_fill(files=4, size=500)
    ids = sorted(Distribution.objects.values_list("id", flat=True))
    run = VerifyRun.objects.create(files_total=4)
    batches = batches_create(run=run, ranges=[(ids[0], ids[1]), (ids[2], ids[3])])
    for batch in reversed(batches):  # finished in any order
        verify_batch(batch.pk)

    _wait_for_batches(run, batches, progress=lambda run: None, workers_available=lambda: True)

    run.refresh_from_db()
    assert (run.cursor, run.files_checked) == (ids[3], 4)
    assert VerifyBatch.objects.filter(run=run, done=True, error="").count() == 2
