from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.catalog.importing import distribution_import
from apps.catalog.models import Distribution, JournalEntry, Project, Release
from tests.support.dists import DistSpec, build_wheel

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(tmp_path):
    distribution_import(build_wheel(DistSpec("Foo.Bar", "1.0"), tmp_path))
    return Project.objects.get()


@pytest.mark.parametrize("model", [Project, Release, Distribution, JournalEntry])
def test_changelist_lists_and_searches(admin_client, published, model):
    url = reverse(f"admin:catalog_{model._meta.model_name}_changelist")
    response = admin_client.get(url, {"q": "foo"})
    assert response.status_code == 200
    assert b"0 results" not in response.content
    assert admin_client.get(url, {"q": "no-such-thing"}).status_code == 200


@pytest.mark.parametrize("model", [Project, Release, Distribution, JournalEntry])
def test_change_page_shows_the_object(admin_client, published, model):
    obj = model.objects.first()
    response = admin_client.get(
        reverse(f"admin:catalog_{model._meta.model_name}_change", args=[obj.pk])
    )
    assert response.status_code == 200


def test_block_action_takes_the_project_down_with_a_journal_entry(admin_client, published):
    url = reverse("admin:catalog_project_changelist")
    response = admin_client.post(url, {"action": "block", "_selected_action": [published.pk]})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.status == Project.Status.BLOCKED
    assert JournalEntry.objects.latest("id").action == "block project"
    assert admin_client.get("/simple/foo-bar/").status_code == 404


def test_journal_entries_cannot_be_deleted(admin_client, published):
    entry = JournalEntry.objects.first()
    url = reverse("admin:catalog_journalentry_delete", args=[entry.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_journal_lists_the_newest_entry_first(admin_client, tmp_path, published):
    distribution_import(build_wheel(DistSpec("Foo.Bar", "2.0"), tmp_path))
    serials = list(JournalEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(serials) > 2

    response = admin_client.get(reverse("admin:catalog_journalentry_changelist"))

    listed = [entry.pk for entry in response.context["cl"].result_list]
    assert listed == serials[::-1]


SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Project, "updated"),
        (Release, "created"),
        (Distribution, "upload_time"),
        (JournalEntry, "submitted_date"),
    ],
)
def test_admin_shows_times_to_the_second(admin_client, published, model, field):
    model.objects.update(**{field: SECOND})
    name = model._meta.model_name
    obj = model.objects.first()

    listed = admin_client.get(reverse(f"admin:catalog_{name}_changelist"))
    shown = admin_client.get(reverse(f"admin:catalog_{name}_change", args=[obj.pk]))

    assert b"2026-01-02 03:04:05" in listed.content
    assert b"2026-01-02 03:04:05" in shown.content


def test_a_year_past_any_calendar_is_a_bad_lookup_not_a_500(admin_client):
    admin_client.raise_request_exception = False
    url = reverse("admin:catalog_distribution_changelist") + "?upload_time__year=99999999999999"
    response = admin_client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")  # Django's answer to any bad lookup


def test_a_month_past_any_calendar_finds_nothing(admin_client, published):
    url = reverse("admin:catalog_distribution_changelist")
    response = admin_client.get(url + "?upload_time__year=2024&upload_time__month=99999999999")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
