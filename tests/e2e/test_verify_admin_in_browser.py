"""Verify's runs and findings as staff read them: headless Chromium at 1280x800 on a live
server, filled as a big store's verify leaves them (long paths, every kind and repair)."""

import pytest
from django.utils import timezone

from apps.verification.models import Finding, VerifyRun
from tests.support.browser import horizontal_overflow, open_page, staff_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def runs() -> list[VerifyRun]:
    made = []
    for n, state in enumerate(VerifyRun.State.values * 3):
        run = VerifyRun.objects.create(
            state=state,
            trigger=VerifyRun.Trigger.values[n % 2],
            repair=bool(n % 2),
            files_total=3_534_617,
            files_checked=3_534_617 if state != "running" else 1_234_567,
            bytes_checked=13_456_789_012_345,
            orphans_walked=state == "finished",
            orphans_cursor="packages/7f" if state == "running" else "",
            resumed=n,
            error="the store did not answer: [Errno 5] Input/output error" * 2
            if state == "failed"
            else "",
        )
        made.append(run)
    kinds = list(Finding.Kind.values)
    repairs = list(Finding.Repair.values)
    for n in range(40):
        Finding.objects.create(
            run=made[0],
            kind=kinds[n % len(kinds)],
            blob=Finding.Blob.values[n % 3],
            path=f"packages/{SHA[:2]}/{SHA[2:4]}/{SHA[4:]}/a-rather-long-project-name-{n}"
            "-1.0.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            project=f"a-rather-long-project-name-{n}",
            filename=f"a-rather-long-project-name-{n}-1.0.0.post1-cp312-cp312-manylinux.whl",
            expected_sha256=SHA,
            actual_sha256=SHA[::-1],
            expected_size=123_456_789,
            actual_size=123_456,
            repair=repairs[n % len(repairs)],
            repair_detail="HTTP 404 from https://pypi.org/packages/..." if n % 5 == 0 else "",
            repaired=timezone.now() if n % 2 else None,
        )
    return made


@pytest.mark.parametrize(
    ("path", "rows"),
    [("verifyrun/", 9), ("finding/", 40)],
)
def test_the_lists_fit_1280_px(live_server, admin_user, runs, tmp_path, path, rows):
    url = f"{live_server.url}/admin/verification/{path}"

    with open_page(url, cookies=staff_session(admin_user)) as page:
        page.screenshot(path=tmp_path / "list.png", full_page=True)
        shown = page.locator("#result_list tbody tr").count()
        overflow = horizontal_overflow(page)

    assert shown == rows
    assert overflow == [], f"{overflow}: see {tmp_path / 'list.png'}"


def test_a_run_and_a_finding_page_fit_1280_px(live_server, admin_user, runs, tmp_path):
    finding = runs[0].findings.first()
    pages = {
        "run": f"{live_server.url}/admin/verification/verifyrun/{runs[0].pk}/change/",
        "finding": f"{live_server.url}/admin/verification/finding/{finding.pk}/change/",
    }
    overflow = {}
    for name, url in pages.items():
        with open_page(url, cookies=staff_session(admin_user)) as page:
            page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
            overflow[name] = horizontal_overflow(page)

    assert overflow == {"run": [], "finding": []}, f"{overflow}: see {tmp_path}"
