"""The sync figures of ``/metrics``, read from real runs' rows and parsed as Prometheus does."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from apps.replication.metrics import SyncCollector
from apps.replication.models import SyncRun, Upstream

pytestmark = pytest.mark.django_db


def scrape() -> dict[str, dict[tuple, float]]:
    """Sample name → {sorted labels: value}, from the text format the collector's figures give."""
    registry = CollectorRegistry()
    registry.register(SyncCollector())
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def run(upstream, state, *, finished_ago=None, **counts) -> SyncRun:
    created = SyncRun.objects.create(upstream=upstream, trigger="schedule", state=state, **counts)
    if finished_ago is not None:
        finished = timezone.now() - finished_ago
        SyncRun.objects.filter(pk=created.pk).update(
            started=finished - timedelta(minutes=1), finished=finished
        )
    return created


def by_upstream(samples: dict, name: str) -> dict[str, float]:
    return {dict(labels)["upstream"]: value for labels, value in samples[name].items()}


def test_runs_are_counted_by_upstream_and_outcome_with_their_files_bytes_and_failures():
    pypi = Upstream.objects.create(name="pypi", url="https://pypi.org", last_serial=120)
    private = Upstream.objects.create(
        name="private", url="https://alice:s3cret@private.example/simple/?token=t0ken"
    )
    S = SyncRun.State
    run(pypi, S.SUCCEEDED, finished_ago=timedelta(hours=2), files_fetched=10, bytes_fetched=1000)
    run(pypi, S.SUCCEEDED, finished_ago=timedelta(minutes=5), serial_to=100, files_fetched=3,
        bytes_fetched=300)  # fmt: skip
    run(pypi, S.PARTIAL, finished_ago=timedelta(minutes=1), projects_failed=2, files_fetched=1,
        bytes_fetched=10)  # fmt: skip
    run(pypi, S.RUNNING, files_fetched=4, bytes_fetched=40)
    run(private, S.FAILED, finished_ago=timedelta(minutes=3))

    samples = scrape()

    runs = {
        (dict(labels)["upstream"], dict(labels)["outcome"]): value
        for labels, value in samples["pypimirror_sync_runs_total"].items()
    }
    assert runs == {
        ("pypi", "succeeded"): 2, ("pypi", "partial"): 1, ("pypi", "failed"): 0,
        ("private", "succeeded"): 0, ("private", "partial"): 0, ("private", "failed"): 1,
    }  # fmt: skip
    assert by_upstream(samples, "pypimirror_sync_runs_in_progress") == {"pypi": 1, "private": 0}
    assert by_upstream(samples, "pypimirror_sync_files_fetched_total") == {
        "pypi": 18,
        "private": 0,
    }
    assert by_upstream(samples, "pypimirror_sync_fetched_bytes_total") == {
        "pypi": 1350,
        "private": 0,
    }
    assert by_upstream(samples, "pypimirror_sync_project_errors_total") == {
        "pypi": 2,
        "private": 0,
    }
    # Lag from the last successful run (not the later partial one); none without one.
    lag = by_upstream(samples, "pypimirror_sync_lag_seconds")
    assert list(lag) == ["pypi"]
    assert 300 <= lag["pypi"] < 330
    last = SyncRun.objects.get(upstream=pypi, serial_to=100).finished
    assert by_upstream(samples, "pypimirror_sync_last_success_timestamp_seconds") == {
        "pypi": pytest.approx(last.timestamp())
    }
    assert by_upstream(samples, "pypimirror_sync_serials_behind") == {"pypi": 20}
    assert by_upstream(samples, "pypimirror_upstream_enabled") == {"pypi": 1, "private": 1}


def test_no_upstream_url_nor_its_credentials_are_in_the_figures():
    private = Upstream.objects.create(
        name="private", url="https://alice:s3cret@private.example/simple/?token=t0ken"
    )
    run(private, SyncRun.State.FAILED, finished_ago=timedelta(minutes=3), error="boom")
    registry = CollectorRegistry()
    registry.register(SyncCollector())
    text = generate_latest(registry).decode()
    assert 'upstream="private"' in text
    for secret in ("s3cret", "t0ken", "alice", "private.example"):
        assert secret not in text


def test_a_scrape_costs_the_same_few_queries_however_many_runs_and_upstreams():
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            scrape()
        return len(captured)

    one = Upstream.objects.create(name="one", url="https://one.example/")
    run(one, SyncRun.State.SUCCEEDED, finished_ago=timedelta(minutes=1))
    few = queries()
    for index in range(5):
        upstream = Upstream.objects.create(name=f"u{index}", url=f"https://u{index}.example/")
        for state in SyncRun.State.values:
            run(upstream, state, finished_ago=timedelta(minutes=index + 1))
    assert queries() == few == 3


def test_registering_the_collector_reads_nothing():
    with CaptureQueriesContext(connection) as captured:
        CollectorRegistry().register(SyncCollector())
    assert len(captured) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL")
def test_each_upstreams_last_run_and_last_success_are_read_by_index():
    """Migration 0011's indexes: a scrape reads two runs per upstream, not every run."""
    upstream = Upstream.objects.create(name="pypi", url="https://pypi.example")
    for _ in range(3):
        run(upstream, SyncRun.State.SUCCEEDED, finished_ago=timedelta(minutes=5))
    with CaptureQueriesContext(connection) as queries:
        scrape()
    statuses = next(q["sql"] for q in queries.captured_queries if "last_success_id" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statuses}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sync_run_upstream_started" in plan
    assert "sync_run_upstream_finished" in plan


def test_a_run_of_named_projects_leaves_the_serial_reached_as_the_last_full_run_left_it():
    pypi = Upstream.objects.create(name="pypi", url="https://pypi.org", last_serial=120)
    run(pypi, SyncRun.State.SUCCEEDED, finished_ago=timedelta(minutes=9), serial_to=100)
    run(pypi, SyncRun.State.SUCCEEDED, finished_ago=timedelta(minutes=1), serial_to=None)

    samples = scrape()

    assert by_upstream(samples, "pypimirror_sync_serials_behind") == {"pypi": 20}
    lag = by_upstream(samples, "pypimirror_sync_lag_seconds")
    assert 60 <= lag["pypi"] < 90  # the named run is still the last success
