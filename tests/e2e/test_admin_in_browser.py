"""The admin's pages as staff see them: headless Chromium at 1280x800 on a live server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.replication.models import SyncRun, Upstream
from tests.support.browser import horizontal_overflow, open_page, staff_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def runs() -> list[SyncRun]:
    """Runs as a busy node has them: long upstream names, big counters, every state."""
    pypi = Upstream.objects.create(name="pypi-org-primary-mirror", url="https://pypi.org")
    other = Upstream.objects.create(name="node-eu-west-2", url="http://10.0.0.2:8080/simple/")
    now = timezone.now()
    made = []
    for i, state in enumerate(SyncRun.State.values * 4):
        made.append(
            SyncRun.objects.create(
                upstream=pypi if i % 2 else other,
                trigger=SyncRun.Trigger.values[i % 3],
                state=state,
                projects_planned=612_345,
                projects_done=598_000 - i,
                projects_failed=1_234 + i,
                projects_skipped=17,
                files_fetched=4_567_890,
                bytes_fetched=23_456_789_012_345,
                error="abandoned: its workers stopped" if state == "failed" else "",
                errors=[{"project": f"p{n}", "error": "HTTP 503 " * 20} for n in range(50)],
            )
        )
    SyncRun.objects.filter(state__in=["succeeded", "partial", "failed"]).update(
        started=now - timedelta(days=1, hours=3), finished=now
    )
    return made


def test_sync_run_list_fits_1280_px(live_server, admin_user, runs, tmp_path):
    url = f"{live_server.url}/admin/replication/syncrun/"

    with open_page(url, width=1280, height=800, cookies=staff_session(admin_user)) as page:
        page.screenshot(path=tmp_path / "sync-runs.png")
        rows = page.locator("#result_list tbody tr").count()
        overflow = horizontal_overflow(page)
        cells_wrapped = page.evaluate(
            """() => [...document.querySelectorAll('#result_list tbody td, #result_list tbody th')]
                .filter((cell) => cell.getClientRects().length
                        && cell.getBoundingClientRect().height > 2.2 * parseFloat(
                            getComputedStyle(cell).lineHeight || 16))
                .map((cell) => cell.className + ': ' + cell.innerText)"""
        )

    assert rows == len(runs)
    assert overflow == [], f"{overflow}: see {tmp_path / 'sync-runs.png'}"
    assert cells_wrapped == [], f"{cells_wrapped}: see {tmp_path / 'sync-runs.png'}"


def test_sync_run_page_fits_1280_px_with_its_failed_projects(
    live_server, admin_user, runs, tmp_path
):
    run = runs[0]
    url = f"{live_server.url}/admin/replication/syncrun/{run.pk}/change/"

    with open_page(url, width=1280, height=800, cookies=staff_session(admin_user)) as page:
        page.screenshot(path=tmp_path / "sync-run.png", full_page=True)
        failures = page.locator(".field-failures li").count()
        overflow = horizontal_overflow(page)

    assert failures == len(run.errors)
    assert overflow == [], f"{overflow}: see {tmp_path / 'sync-run.png'}"
