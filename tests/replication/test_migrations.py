"""Data migrations of replication, run back and forth on the test database."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("replication", "0006_upstream_rules")]
AFTER = [("replication", "0007_upstream_secrets_masked")]


@pytest.fixture(autouse=True)
def latest_schema_after():
    """The database back at the latest migrations, as the tests after this one expect it."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    beat = executor.loader.graph.leaf_nodes("django_celery_beat")
    return executor.loader.project_state([*targets, *beat]).apps


def test_secrets_stored_before_are_masked():
    """Periodic syncs' descriptions, runs' errors and project states' errors."""
    apps = migrate(BEFORE)
    Upstream = apps.get_model("replication", "Upstream")
    SyncRun = apps.get_model("replication", "SyncRun")
    ProjectSyncState = apps.get_model("replication", "ProjectSyncState")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    url = "http://mirror:s3cret-pw@127.0.0.1:8080?token=tok-abcdef"
    upstream = Upstream.objects.create(name="private", url=url)
    run = SyncRun.objects.create(
        upstream=upstream,
        trigger="schedule",
        error="http://mirror:s3cret-pw@127.0.0.1:8080/simple/: HTTP 503",
        errors=[{"project": "alpha", "error": "http://mirror:s3cret-pw@127.0.0.1:8080/a: reset"}],
    )
    state = ProjectSyncState.objects.create(
        upstream=upstream, normalized_name="alpha", name="alpha", last_error="s3cret-pw refused"
    )
    untouched = ProjectSyncState.objects.create(
        upstream=upstream, normalized_name="beta", name="beta", last_error="HTTP 502"
    )
    # Taken if there is one: the hub report's migration (0010) made it, unless an earlier
    # transactional test emptied the tables; a second would break that migration's get_or_create.
    interval, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
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
    run = apps.get_model("replication", "SyncRun").objects.get(pk=run.pk)
    assert run.error == "http://***@127.0.0.1:8080/simple/: HTTP 503"
    assert run.errors == [{"project": "alpha", "error": "http://***@127.0.0.1:8080/a: reset"}]
    states = apps.get_model("replication", "ProjectSyncState").objects
    assert states.get(pk=state.pk).last_error == "*** refused"
    assert states.get(pk=untouched.pk).last_error == "HTTP 502"
