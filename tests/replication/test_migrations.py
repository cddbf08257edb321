"""Data migrations of replication, run back and forth on the test database."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("replication", "0003_upstream_listing_etag")]
AFTER = [("replication", "0004_periodic_sync_descriptions_masked")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    beat = executor.loader.graph.leaf_nodes("django_celery_beat")
    return executor.loader.project_state([*targets, *beat]).apps


def test_periodic_syncs_made_before_mask_the_url_in_their_description():
    apps = migrate(BEFORE)
    Upstream = apps.get_model("replication", "Upstream")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    url = "http://mirror:s3cret-pw@127.0.0.1:8080?token=tok-abcdef"
    upstream = Upstream.objects.create(name="private", url=url)
    interval = IntervalSchedule.objects.create(every=10, period="minutes")
    task = PeriodicTask.objects.create(
        name="Sync upstream private",
        task="apps.replication.tasks.sync_upstream",
        interval=interval,
        args=json.dumps([upstream.pk]),
        description=f"Replicates {url}.",
    )

    apps = migrate(AFTER)

    task = apps.get_model("django_celery_beat", "PeriodicTask").objects.get(pk=task.pk)
    assert task.description == "Replicates http://***@127.0.0.1:8080?token=***."
