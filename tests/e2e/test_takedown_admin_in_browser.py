"""Takedowns as staff make and lift them: the admin's form, page and action in headless Chromium
at 1280x800 on a live server."""

import pytest
from django.contrib.auth.models import User

from apps.catalog.importing import distribution_import
from apps.catalog.models import Distribution, Takedown
from tests.support.browser import horizontal_overflow, open_page, staff_session
from tests.support.dists import DistSpec, build_wheel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WHEEL = "foo_bar-1.0-py3-none-any.whl"


def test_staff_take_a_file_down_see_it_held_and_lift_it(live_server, tmp_path):
    distribution_import(build_wheel(DistSpec("Foo.Bar", "1.0"), tmp_path))
    staff = User.objects.create_superuser("legal", "legal@example.org", "unused")
    add = f"{live_server.url}/admin/catalog/takedown/add/"

    with open_page(add, cookies=staff_session(staff), still=False) as page:
        page.fill("#id_project_name", "Foo.Bar")
        page.fill("#id_file", "../" + WHEEL)  # a path, not a file name: refused, nothing done
        page.fill("#id_reason", "malware reported by the security team")
        page.click("input[name=_save]")
        page.wait_for_selector(".errornote")
        refused = page.locator(".errornote, .errorlist").all_inner_texts()

        page.fill("#id_file", WHEEL)
        page.click("input[name=_save]")
        page.wait_for_url("**/admin/catalog/takedown/")
        added = page.locator(".messagelist").inner_text()
        page.click("#result_list tbody th a")
        page.wait_for_selector(".field-held_files")
        page.screenshot(path=tmp_path / "takedown.png", full_page=True)
        held = page.locator(".field-held_files").inner_text()
        overflow = horizontal_overflow(page)

        page.goto(f"{live_server.url}/admin/catalog/takedown/")
        page.check("#result_list tbody input[name=_selected_action]")
        page.select_option("select[name=action]", "lift")
        page.click("button[name=index]")
        page.wait_for_selector(".messagelist")
        lifted = page.locator(".messagelist").inner_text()

    assert refused and any("has no file named" in text for text in refused), refused
    assert "was added successfully" in added, added
    takedown = Takedown.objects.get()
    assert (takedown.created_by, takedown.filename) == ("legal", WHEEL)
    assert f"{WHEEL} (store/" in held
    assert overflow == [], f"{overflow}: see {tmp_path / 'takedown.png'}"
    assert f"Served again: {WHEEL}" in lifted, lifted
    takedown.refresh_from_db()
    assert (takedown.standing, takedown.lifted_by) == (False, "legal")
    assert Distribution.objects.filter(filename=WHEEL).exists()
