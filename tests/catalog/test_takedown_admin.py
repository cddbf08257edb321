"""Takedowns in the admin (a form with a reason, a "Lift" action, the project's page) and in
the API (``/api/v1/takedowns/``, staff only)."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from apps.catalog.importing import distribution_import
from apps.catalog.models import Distribution, JournalEntry, Project, Takedown
from apps.catalog.takedowns import takedown_create
from tests.support.dists import DistSpec, build_wheel

pytestmark = pytest.mark.django_db

WHEEL = "foo_bar-1.0-py3-none-any.whl"
ADD = "admin:catalog_takedown_add"


@pytest.fixture(autouse=True)
def published(tmp_path):
    distribution_import(build_wheel(DistSpec("Foo.Bar", "1.0"), tmp_path))
    return Project.objects.get()


def test_staff_take_a_file_down_with_a_reason_recorded_as_themselves(admin_client, admin_user):
    response = admin_client.post(
        reverse(ADD), {"project_name": "Foo.Bar", "file": WHEEL, "reason": "malware"}
    )

    assert response.status_code == 302, response.content
    takedown = Takedown.objects.get()
    assert (takedown.scope, takedown.filename, takedown.reason) == ("file", WHEEL, "malware")
    assert takedown.created_by == admin_user.username
    assert not Distribution.objects.exists()
    newest = JournalEntry.objects.order_by("-id").values_list("action", flat=True)[:2]
    assert list(newest) == ["remove release", f"remove file {WHEEL}"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"project_name": "nope", "reason": "x"}, "no project named"),
        ({"project_name": "foo-bar", "file": "../x.whl", "reason": "x"}, "has no file named"),
        ({"project_name": "foo-bar", "release": "1.0", "file": WHEEL, "reason": "x"}, "not both"),
        ({"project_name": "foo-bar", "reason": ""}, "This field is required"),
    ],
)
def test_the_form_shows_what_is_wrong_and_takes_nothing_down(admin_client, data, message):
    response = admin_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Takedown.objects.exists()
    assert Distribution.objects.count() == 1


def test_lift_action_records_who_and_serves_the_file_again(admin_client, admin_user):
    takedown = takedown_create(name="foo-bar", filename=WHEEL, reason="malware", actor="alice")

    response = admin_client.post(
        reverse("admin:catalog_takedown_changelist"),
        {"action": "lift", "_selected_action": [takedown.pk]},
    )

    assert response.status_code == 302
    takedown.refresh_from_db()
    assert (takedown.lifted_by, takedown.standing) == (admin_user.username, False)
    assert Distribution.objects.filter(filename=WHEEL).exists()


def test_the_takedown_page_and_the_project_page_show_it(admin_client, published):
    blob_path = Distribution.objects.get().blob_path
    held = takedown_create(name="foo-bar", filename=WHEEL, reason="malware", actor="alice")
    takedown = takedown_create(name="foo-bar", reason="a legal request", actor="alice")

    page = admin_client.get(reverse("admin:catalog_takedown_change", args=[takedown.pk]))
    assert page.status_code == 200
    assert "a legal request" in page.content.decode()
    page = admin_client.get(reverse("admin:catalog_takedown_change", args=[held.pk]))
    assert f"{WHEEL} (store/{blob_path})" in page.content.decode()
    project_page = admin_client.get(reverse("admin:catalog_project_change", args=[published.pk]))
    text = project_page.content.decode()
    assert "a legal request" in text
    assert f"{reverse(ADD)}?project_name=foo-bar" in text
    form = admin_client.get(reverse(ADD), {"project_name": "foo-bar"}).content.decode()
    assert 'value="foo-bar"' in form


def test_takedowns_cannot_be_deleted(admin_client):
    takedown = takedown_create(name="foo-bar", reason="x", actor="alice")
    url = reverse("admin:catalog_takedown_delete", args=[takedown.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Takedown.objects.filter(pk=takedown.pk).exists()


def test_staff_without_the_permissions_cannot_take_down_nor_lift(client):
    user = User.objects.create_user("helper", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_takedown"))
    client.force_login(user)
    takedown = takedown_create(name="foo-bar", reason="x", actor="alice")

    assert client.get(reverse(ADD)).status_code == 403
    client.post(
        reverse("admin:catalog_takedown_changelist"),
        {"action": "lift", "_selected_action": [takedown.pk]},
    )
    takedown.refresh_from_db()
    assert takedown.standing


def test_api_lists_takedowns_to_staff_alone(client, admin_client):
    takedown_create(name="foo-bar", filename=WHEEL, reason="malware", actor="alice")

    assert client.get("/api/v1/takedowns/").status_code == 403
    response = admin_client.get("/api/v1/takedowns/", {"standing": "true"})
    assert response.status_code == 200
    (entry,) = response.json()["results"]
    assert entry["project"] == "foo-bar"
    assert (entry["scope"], entry["filename"], entry["reason"]) == ("file", WHEEL, "malware")
    assert (entry["created_by"], entry["standing"], entry["files"]) == ("alice", True, [WHEEL])
    assert admin_client.get("/api/v1/takedowns/", {"standing": "false"}).json()["count"] == 0
    assert admin_client.get("/api/v1/takedowns/", {"standing": "maybe"}).status_code == 400
