"""Sync figures for Prometheus, read from the database at each scrape (``/metrics``).

Runs are done by Celery workers and ``manage.py sync``, processes the web server cannot count
in: the runs' rows are the truth, across processes and restarts. Three queries a scrape
(``upstream_status_list``'s two and one aggregate over the runs, a row per run). Upstreams are
labelled by name alone: their URLs may hold credentials.
"""

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import SyncRun
from .selectors import sync_run_totals, upstream_status_list

FINISHED = (SyncRun.State.SUCCEEDED, SyncRun.State.PARTIAL, SyncRun.State.FAILED)
IN_PROGRESS = (SyncRun.State.PLANNING, SyncRun.State.RUNNING)


class SyncCollector(Collector):
    """Per upstream: lag, serials behind, runs by outcome, files, bytes and project failures."""

    def describe(self) -> list[Metric]:
        # Nothing: registering must not query the database (the registry would call collect).
        return []

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        statuses = upstream_status_list()
        names = [status.name for status in statuses]

        enabled = GaugeMetricFamily(
            "pypimirror_upstream_enabled",
            "1 when the upstream's periodic sync is enabled, else 0.",
            labels=["upstream"],
        )
        lag = GaugeMetricFamily(
            "pypimirror_sync_lag_seconds",
            "Seconds since the upstream's last successful sync run finished (none before one).",
            labels=["upstream"],
        )
        last_success = GaugeMetricFamily(
            "pypimirror_sync_last_success_timestamp_seconds",
            "When the upstream's last successful sync run finished (Unix time).",
            labels=["upstream"],
        )
        behind = GaugeMetricFamily(
            "pypimirror_sync_serials_behind",
            "Upstream serials not yet brought in: its serial at the last plan minus the one the "
            "last successful run reached (none while either is unknown).",
            labels=["upstream"],
        )
        for status in statuses:
            enabled.add_metric([status.name], 1 if status.enabled else 0)
            finished = status.last_success.finished if status.last_success else None
            if finished is not None:
                lag.add_metric([status.name], max((now - finished).total_seconds(), 0.0))
                last_success.add_metric([status.name], finished.timestamp())
            if status.serials_behind is not None:
                behind.add_metric([status.name], status.serials_behind)
        yield from (enabled, lag, last_success, behind)

        runs = {(name, state): 0 for name in names for state in FINISHED}
        in_progress = dict.fromkeys(names, 0)
        files = dict.fromkeys(names, 0)
        fetched_bytes = dict.fromkeys(names, 0)
        failures = dict.fromkeys(names, 0)
        for row in sync_run_totals():
            name = row["upstream__name"]
            if name not in files:  # an upstream added since the statuses were read
                continue
            if row["state"] in IN_PROGRESS:
                in_progress[name] += row["runs"]
            else:
                runs[name, row["state"]] = runs.get((name, row["state"]), 0) + row["runs"]
            files[name] += row["files"] or 0
            fetched_bytes[name] += row["bytes"] or 0
            failures[name] += row["projects_failed"] or 0

        finished_runs = CounterMetricFamily(
            "pypimirror_sync_runs",
            "Finished sync runs by outcome: succeeded, partial (some projects failed), failed.",
            labels=["upstream", "outcome"],
        )
        for (name, outcome), count in runs.items():
            finished_runs.add_metric([name, outcome], count)
        yield finished_runs
        yield _per_upstream(
            GaugeMetricFamily(
                "pypimirror_sync_runs_in_progress",
                "Sync runs planning or running now.",
                labels=["upstream"],
            ),
            in_progress,
        )
        yield _per_upstream(
            CounterMetricFamily(
                "pypimirror_sync_files_fetched",
                "Files downloaded from the upstream by sync runs (running ones included).",
                labels=["upstream"],
            ),
            files,
        )
        yield _per_upstream(
            CounterMetricFamily(
                "pypimirror_sync_fetched_bytes",
                "Bytes of files downloaded from the upstream by sync runs.",
                labels=["upstream"],
            ),
            fetched_bytes,
        )
        yield _per_upstream(
            CounterMetricFamily(
                "pypimirror_sync_project_errors",
                "Projects a sync run failed to bring in, summed over the runs (each run's "
                "errors are in the admin and /api/v1/sync-runs/).",
                labels=["upstream"],
            ),
            failures,
        )


def _per_upstream(family, values: dict[str, int]):
    for name, value in values.items():
        family.add_metric([name], value)
    return family
