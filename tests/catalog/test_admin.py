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
