"""The network at a glance (overview.py) and the admin's home page that shows it with this
node's own syncs: mirrors by health with lag, score and last probe, disabled ones with their
reason, the node's lag and failed runs, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.network.health import Health
from apps.network.models import Probe
from apps.network.overview import middle_cut, network_glance, seconds_text
from apps.network.selectors import probe_location_hub
from apps.network.services import mirror_disable, report_record
from apps.replication.models import SyncRun, Upstream

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def probe(mirror, *, hours_ago: float = 0, good: bool = True, lag: float = 60, url=None):
    return Probe.objects.create(
        url=url or mirror.urls.get(),
        location=probe_location_hub(),
        checked=NOW - timedelta(hours=hours_ago),
        reachable=good,
        http_status=200 if good else None,
        duration=0.5,
        lag_seconds=lag,
        lag_serials=3,
        integrity_ok=True if good else None,
        error="" if good else "connection refused",
    )


def test_mirrors_come_by_health_attention_first_then_by_score(make_mirror):
    fast, slow = make_mirror("fast"), make_mirror("slow")
    down = make_mirror("down")
    make_mirror("silent")  # never probed
    says_failed = make_mirror("says-failed")
    probe(fast, lag=10)
    probe(slow, lag=5000)
    probe(down, hours_ago=2)
    probe(down, good=False)
    probe(says_failed)
    report_record(mirror=says_failed, state="failed")

    glance = network_glance(now=NOW)

    assert [(m.name, m.health) for m in glance.mirrors] == [
        ("down", Health.FAILING),
        ("says-failed", Health.DEGRADED),
        ("silent", Health.UNKNOWN),
        ("fast", Health.HEALTHY),
        ("slow", Health.HEALTHY),
    ]
    assert glance.counts == {"failing": 1, "degraded": 1, "unknown": 1, "healthy": 2}
    fast_row = glance.mirrors[3]
    assert (fast_row.lag_seconds, fast_row.lag_serials, fast_row.last_probe) == (10, 3, NOW)
    assert fast_row.score == pytest.approx(10.5)
    down_row = glance.mirrors[0]
    assert (down_row.last_probe_ok, down_row.last_error) == (False, "connection refused")
    assert down_row.score == pytest.approx((60 + 0.5) / 0.5**2)  # one good probe of two


def test_a_mirror_is_as_healthy_as_its_best_url(make_mirror):
    mirror = make_mirror("two-urls")
    first = mirror.urls.get()
    other = mirror.urls.create(url="http://two-urls.example.org/")
    probe(mirror, url=first, good=False)
    probe(mirror, url=other, lag=30)

    [row] = network_glance(now=NOW).mirrors

    assert (row.health, row.lag_seconds) == (Health.HEALTHY, 30)


def test_disabled_mirrors_are_listed_apart_with_their_reason_latest_first(make_mirror):
    old, new = make_mirror("old"), make_mirror("new")
    mirror_disable(mirror=old, reason="Disabled by staff: moving", by="staff")
    mirror_disable(mirror=new, reason="4 probes in a row failed: timed out", by="probes")
    probe(new, good=False)

    glance = network_glance(now=NOW)

    assert glance.mirrors == []
    assert [(m.name, m.disabled_by, m.reason) for m in glance.disabled] == [
        ("new", "Probes (failed in a row)", "4 probes in a row failed: timed out"),
        ("old", "Staff", "Disabled by staff: moving"),
    ]
    assert glance.total == 2


def test_long_lists_are_cut_and_the_rest_counted(make_mirror):
    for n in range(7):
        make_mirror(f"m{n}")

    glance = network_glance(now=NOW, limit=5)

    assert (len(glance.mirrors), glance.mirrors_more, glance.total) == (5, 2, 7)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (-3, "0 s"), (42, "42 s"), (720, "12 min"), (12600, "3.5 h"), (181440, "2.1 d")],
)
def test_lag_in_a_short_unit(seconds, text):
    assert seconds_text(seconds) == text


# The admin's home page


def busy_network(make_mirror, n: int, prefix: str = "mirror") -> None:
    for i in range(n):
        mirror = make_mirror(f"{prefix}-{i:02d}")
        for hours in range(3):
            probe(mirror, hours_ago=hours, good=bool(i % 3))
        mirror.urls.create(url=f"http://{prefix}-{i:02d}.example.org/")
        report_record(mirror=mirror, state="idle", serial=i)
        if i % 5 == 0:
            mirror_disable(mirror=mirror, reason=f"reason {i}")


def node_runs(n: int, upstream: str = "pypi") -> None:
    upstream = Upstream.objects.create(
        name=upstream, url=f"https://{upstream}.example.org", last_serial=100
    )
    for i in range(n):
        SyncRun.objects.create(
            upstream=upstream,
            trigger="schedule",
            state=["succeeded", "partial", "failed"][i % 3],
            serial_to=90,
            projects_failed=i % 3,
            error="upstream unusable: HTTP 503" if i % 3 == 2 else "",
            finished=timezone.now(),
        )


def index_queries(admin_client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_home_page_reads_a_fixed_number_of_queries(admin_client, make_mirror):
    busy_network(make_mirror, 3, prefix="few")
    node_runs(3)
    few, _ = index_queries(admin_client)

    busy_network(make_mirror, 30, prefix="many")
    node_runs(30, upstream="other")
    many, _ = index_queries(admin_client)

    assert many == few


def test_the_home_page_shows_the_network_and_the_nodes_syncs(admin_client, make_mirror):
    busy_network(make_mirror, 6)
    node_runs(4)

    _, page = index_queries(admin_client)

    assert 'id="node-syncs"' in page and 'id="network-glance"' in page
    assert '<td class="num">10</td>' in page  # serials behind: upstream at 100, reached 90
    assert "2 runs failed" in page  # one partial and one failed of 4
    assert "upstream unusable: HTTP 503" in page
    assert 'id="disabled-mirrors"' in page and "reason 5" in page
    assert page.count('class="mirror-failing"') == 1  # mirror-03 (0 is disabled)
    assert "/admin/network/mirror/" in page
    failed_list = admin_client.get("/admin/replication/syncrun/?state__in=failed,partial")
    assert failed_list.status_code == 200
    assert failed_list.context["cl"].result_count == 2


def test_an_empty_node_says_so(admin_client):
    _, page = index_queries(admin_client)

    assert "This node follows no upstream" in page
    assert "No mirror registered" in page
    assert "No run failed in the last 7 days." in page


def test_long_names_are_cut_in_the_middle():
    assert middle_cut("short") == "short"
    assert middle_cut("university-of-somewhere-far-away-mirror-03", 21) == "university…-mirror-03"


def test_a_mirror_not_probed_lately_is_as_its_last_probe_left_it(make_mirror):
    mirror = make_mirror("quiet")
    probe(mirror, hours_ago=30, good=False)

    [row] = network_glance(now=NOW).mirrors

    assert (row.health, row.last_probe, row.score) == (
        Health.FAILING,
        NOW - timedelta(hours=30),
        None,
    )
