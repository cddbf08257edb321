"""The admin's home page as staff see it: this node's syncs and the mirror network at a glance,
in headless Chromium at 1280x800 on a live server, filled as a busy hub's would be."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.network.models import Mirror, Probe
from apps.network.selectors import probe_location_hub
from apps.network.services import mirror_create, mirror_disable, report_record
from apps.replication.models import SyncRun, Upstream
from tests.support.browser import horizontal_overflow, open_page, staff_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Cells taller than two lines: text that wrapped instead of being cut.
WRAPPED_CELLS = """() => [...document.querySelectorAll('.glance td, .glance th')]
    .filter((cell) => cell.getClientRects().length
            && cell.getBoundingClientRect().height > 2.2 * parseFloat(
                getComputedStyle(cell).lineHeight || 16))
    .map((cell) => cell.innerText)"""
# Tables wider than the box they are in (which the page's own width would not show).
TABLES_WIDER = """() => [...document.querySelectorAll('.glance table')]
    .filter((table) => table.getBoundingClientRect().right
                       > table.closest('.module').getBoundingClientRect().right + 1)
    .map((table) => table.closest('.module').id)"""
ROWS = """(id) => [...document.querySelectorAll(`#${id} tbody tr`)]
    .map((row) => [...row.cells].map((cell) => cell.innerText.trim()))"""


@pytest.fixture
def busy_hub() -> list[Mirror]:
    """Long names, every health, disabled mirrors with long reasons, a node with failed runs."""
    now = timezone.now()
    made = []
    for n in range(14):
        mirror = mirror_create(
            name=f"university-of-somewhere-far-away-mirror-{n:02d}",
            url=f"https://mirror-{n}.university.example.org/pypi/",
            country=["DE", "US", "BR", "JP"][n % 4],
        )
        report_record(mirror=mirror, state=["idle", "syncing", "failed"][n % 3], serial=n)
        for hours in range(3):
            good = n % 4 != 1
            Probe.objects.create(
                url=mirror.urls.get(),
                location=probe_location_hub(),
                checked=now - timedelta(hours=hours, minutes=n),
                reachable=good,
                http_status=200 if good else None,
                duration=0.25 + n / 10,
                lag_seconds=30.0 * n**3,
                lag_serials=1_234_567 * n,
                integrity_ok=True if good else None,
                error="" if good else "connection refused by 203.0.113.7 " * 6,
            )
        if n % 5 == 4:
            mirror_disable(
                mirror=mirror,
                reason="4 probes in a row failed: " + "timed out after 60 s reading /simple/ " * 4,
                by="probes",
            )
        made.append(mirror)
    mirror_create(name="new-mirror-never-probed", url="https://new.example.org/")
    upstream = Upstream.objects.create(
        name="pypi-org-primary-upstream-with-a-long-name", url="https://pypi.org", last_serial=9**9
    )
    for i in range(8):
        SyncRun.objects.create(
            upstream=upstream,
            trigger="schedule",
            state=["succeeded", "partial", "failed"][i % 3],
            serial_to=9**9 - 12_345,
            projects_failed=1_234 * (i % 3),
            error="upstream unusable: " + "HTTP 503 Service Unavailable " * 8 if i % 3 == 2 else "",
            finished=now - timedelta(hours=i),
        )
    return made


def test_the_home_page_shows_the_network_at_a_glance_within_1280_px(
    live_server, admin_user, busy_hub, tmp_path
):
    screenshot = tmp_path / "admin-index.png"

    with open_page(
        f"{live_server.url}/admin/", width=1280, height=800, cookies=staff_session(admin_user)
    ) as page:
        page.screenshot(path=screenshot, full_page=True)
        overflow = horizontal_overflow(page)
        wrapped = page.evaluate(WRAPPED_CELLS)
        wider = page.evaluate(TABLES_WIDER)
        mirrors = page.evaluate(ROWS, "network-glance")
        disabled = page.evaluate(ROWS, "disabled-mirrors")
        syncs = page.evaluate(ROWS, "node-syncs")
        counts = page.locator("#network-glance .counts").inner_text()
        failed_runs = page.locator("#node-syncs .counts").inner_text()

    assert overflow == [], f"{overflow}: see {screenshot}"
    assert wrapped == [], f"{wrapped}: see {screenshot}"
    assert wider == [], f"{wider}: see {screenshot}"
    # by health, attention first: the failing, the degraded (probes good, says failed), the
    # never probed, then the healthy by score (least lag first)
    healths = [row[1].split()[0] for row in mirrors]
    assert healths == sorted(healths, key=["failing", "degraded", "unknown", "healthy"].index), (
        healths
    )
    assert counts.split() == [
        "3", "failing", "3", "degraded", "1", "unknown", "6", "healthy", "2", "disabled",
    ]  # fmt: skip
    healthy = [row for row in mirrors if row[1] == "healthy"]
    assert healthy[0][0] == "university-of-somewh…-far-away-mirror-00"  # in full on hover
    assert healthy[0][2:6] == ["0 s", "0", "0.3", healthy[0][5]]
    assert healthy[0][5].endswith("ago")
    assert [row[1] for row in disabled] == ["Probes (failed in a row)"] * 2
    assert all(row[3].startswith("4 probes in a row failed") for row in disabled)
    [upstream] = syncs[:1]
    assert upstream[0] == "pypi-org-primary-upstream-with-a-long-name"
    assert upstream[3] == "12345"
    assert failed_runs.startswith("5 runs failed in the last 7 days")
