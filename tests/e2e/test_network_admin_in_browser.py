"""The network's admin lists as staff see them: headless Chromium at 1280x800 on a live server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.network.models import Mirror, Probe
from apps.network.selectors import probe_location_hub
from apps.network.services import mirror_create, mirror_disable, report_record
from tests.support.browser import horizontal_overflow, open_page, staff_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRAPPED_CELLS = """() => [...document.querySelectorAll(
        '#result_list tbody td, #result_list tbody th')]
    .filter((cell) => cell.getClientRects().length
            && cell.getBoundingClientRect().height > 2.2 * parseFloat(
                getComputedStyle(cell).lineHeight || 16))
    .map((cell) => cell.className + ': ' + cell.innerText)"""


@pytest.fixture
def mirrors() -> list[Mirror]:
    """Mirrors as a busy network has them: long names, outside upstreams, long disable reasons."""
    made = []
    for n, country in enumerate(["DE", "US", "GB", "BR", "AU", "CD"] * 3):
        mirror = mirror_create(
            name=f"university-mirror-network-{n:02d}",
            url=f"https://mirror-{n}.university.example.org/pypi/simple-index/",
            country=country,
            follows_url="https://pypi.org/" if n % 3 == 0 else "",
        )
        report_record(
            mirror=mirror,
            state="idle",
            serial=27_514_436,
            software="pypimirror",
            version="0.1.0.dev20261203",
            free_disk_bytes=812_345_678_901,
            maintenance_until=timezone.now() + timedelta(days=n),
        )
        if n % 4 == 0:
            mirror_disable(
                mirror=mirror,
                reason="4 probes in a row failed: " + "connection refused by 203.0.113.7 " * 5,
            )
        for hours in range(3):
            Probe.objects.create(
                url=mirror.urls.get(),
                location=probe_location_hub(),
                checked=timezone.now() - timedelta(hours=hours),
                reachable=n % 4 != 0,
                http_status=200 if n % 4 else None,
                duration=0.123456,
                lag_seconds=1234.5,
                lag_serials=1_234_567,
                integrity_ok=True,
                error="" if n % 4 else "timed out after 10 s " * 8,
            )
        made.append(mirror)
    return made


@pytest.mark.parametrize("model", ["mirror", "probe", "statusreport"])
def test_network_lists_fit_1280_px(live_server, admin_user, mirrors, tmp_path, model):
    url = f"{live_server.url}/admin/network/{model}/"

    with open_page(url, width=1280, height=800, cookies=staff_session(admin_user)) as page:
        page.screenshot(path=tmp_path / f"{model}.png", full_page=True)
        rows = page.locator("#result_list tbody tr").count()
        overflow = horizontal_overflow(page)
        cells_wrapped = page.evaluate(WRAPPED_CELLS)

    assert rows > 0
    assert overflow == [], f"{overflow}: see {tmp_path / model}.png"
    assert cells_wrapped == [], f"{cells_wrapped}: see {tmp_path / model}.png"
