"""``/metrics`` on real servers (gunicorn with deploy's configuration, several worker processes),
scraped over HTTP and read with prometheus-client's own parser, as Prometheus reads it.

Node B syncs node A (credentials in the URL); B's figures then hold the run, its files and
bytes, and every request of the test, summed over B's workers; A's hold B's downloads.
"""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.servers import LiveServer, live_server

from .nodes import sync, sync_runs

pytestmark = pytest.mark.e2e

DURATION = "pypimirror_http_request_duration_seconds"
SECRET = "s3cret-pass"


def scrape(server: LiveServer) -> tuple[str, dict[str, dict[tuple, float]]]:
    """The text and, per sample name, {sorted labels: value}."""
    response = httpx.get(f"{server.url}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples, name: str, **labels) -> float | None:
    return samples.get(name, {}).get(tuple(sorted(labels.items())))


def requests(samples, **labels) -> float:
    return value(samples, f"{DURATION}_count", **labels) or 0


def test_a_sync_and_requests_to_several_workers_show_in_the_scraped_figures(tmp_path):
    for spec in (DistSpec("alpha", "1.0"), DistSpec("alpha", "1.1"), DistSpec("beta", "2.0")):
        build_wheel(spec, tmp_path)
        build_sdist(spec, tmp_path)
    files = sorted(tmp_path.iterdir())
    with (
        live_server(dists=[tmp_path], workers=2, threads=2) as node_a,
        live_server(workers=2, threads=2) as node_b,
    ):
        host = node_a.url.removeprefix("http://")
        result = sync(node_b, f"http://mirror:{SECRET}@{host}/")
        assert result.returncode == 0, result.stdout + result.stderr
        run = sync_runs(node_b.url)[0]
        upstream = run["upstream"]

        with httpx.Client(base_url=node_b.url, timeout=10) as http:
            for _ in range(7):
                assert http.get("/simple/alpha/").status_code == 200
            for _ in range(3):
                assert http.get("/simple/nothing-here/").status_code == 404
            assert http.head("/simple/").status_code == 200
            assert http.post("/pypi", content=b"<bad/>").status_code == 200  # an XML-RPC fault
            assert http.get("/no/such/page").status_code == 404
        text, b = scrape(node_b)

        # Sync figures, from B's database.
        assert value(b, "pypimirror_sync_runs_total", upstream=upstream, outcome="succeeded") == 1
        assert value(b, "pypimirror_sync_runs_total", upstream=upstream, outcome="failed") == 0
        assert value(b, "pypimirror_sync_runs_in_progress", upstream=upstream) == 0
        assert value(b, "pypimirror_sync_files_fetched_total", upstream=upstream) == len(files)
        assert value(b, "pypimirror_sync_fetched_bytes_total", upstream=upstream) == sum(
            path.stat().st_size for path in files
        )
        assert value(b, "pypimirror_sync_project_errors_total", upstream=upstream) == 0
        assert value(b, "pypimirror_sync_serials_behind", upstream=upstream) == 0
        assert 0 <= value(b, "pypimirror_sync_lag_seconds", upstream=upstream) < 120
        assert value(b, "pypimirror_upstream_enabled", upstream=upstream) == 1
        assert SECRET not in text
        assert host not in text

        # Request figures, summed over B's two workers: each request counted once.
        assert requests(b, view="index:simple-project", method="GET", status="2xx") == 7
        assert requests(b, view="index:simple-project", method="GET", status="4xx") == 3
        assert requests(b, view="index:simple-root", method="HEAD", status="2xx") == 1
        assert requests(b, view="index:xmlrpc", method="POST", status="2xx") == 1
        assert requests(b, view="unresolved", method="GET", status="4xx") == 1
        assert requests(b, view="sync-run-list", method="GET", status="2xx") == 1
        assert value(
            b, f"{DURATION}_bucket", view="index:simple-project", method="GET", status="2xx",
            le="+Inf",
        ) == 7  # fmt: skip
        assert value(b, f"{DURATION}_sum", view="index:simple-project", method="GET",
                     status="2xx") > 0  # fmt: skip

        # A served B's downloads, one request per file.
        _, a = scrape(node_a)
        assert requests(a, view="index:file", method="GET", status="2xx") == len(files)
        assert a.get("pypimirror_sync_runs_total", {}) == {}  # A follows no upstream

        # The second scrape counts the first.
        _, again = scrape(node_b)
        assert requests(again, view="metrics", method="GET", status="2xx") == 1

        # A gone silent: B's next run fails as a whole; the lag still runs from the good one.
        # A stopped, its port still listens (the test holds it): B's requests time out, after
        # a second (PYPIMIRROR_HTTP_TIMEOUT, read by the next manage.py command).
        node_a.stop()
        node_b.env["PYPIMIRROR_HTTP_TIMEOUT"] = "1"
        assert sync(node_b, f"http://mirror:{SECRET}@{host}/").returncode == 2
        text, after = scrape(node_b)
        assert value(after, "pypimirror_sync_runs_total", upstream=upstream, outcome="failed") == 1
        assert (
            value(after, "pypimirror_sync_runs_total", upstream=upstream, outcome="succeeded") == 1
        )
        assert value(after, "pypimirror_sync_lag_seconds", upstream=upstream) >= value(
            b, "pypimirror_sync_lag_seconds", upstream=upstream
        )
        assert SECRET not in text


def test_gevent_workers_as_bin_run_starts_them_sum_their_requests_and_others_are_refused():
    with live_server(
        database="embedded", settings="pypimirror.settings.local", workers=3, threads=None
    ) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(12):
                assert http.get("/healthz").status_code == 200
        _, samples = scrape(server)
        assert requests(samples, view="index:healthz", method="GET", status="2xx") == 12

    # Loopback only unless told: a scraper elsewhere is refused.
    with live_server(
        database="embedded", workers=1, threads=1, env={"PYPIMIRROR_METRICS_ALLOW": "192.0.2.1"}
    ) as server:
        response = httpx.get(f"{server.url}/metrics", timeout=10)
        assert response.status_code == 403
        assert "pypimirror_" not in response.text


def test_recycled_workers_counts_are_kept_in_one_archive_not_a_file_each(tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = {"GUNICORN_MAX_REQUESTS": "4", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with live_server(database="embedded", workers=2, threads=2, env=env) as server:
        for _ in range(30):  # some 8 workers come and go; a connection each, none kept
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        _, samples = scrape(server)
        assert requests(samples, view="index:healthz", method="GET", status="2xx") == 30
        files = sorted(path.name for path in metrics_dir.iterdir())
        assert "histogram_archive.db" in files
        assert len([name for name in files if name.startswith("histogram_")]) <= 3, files
