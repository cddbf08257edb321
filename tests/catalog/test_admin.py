from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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


def _project_with_releases(name: str, count: int) -> Project:
    """A project with ``count`` releases (0.1 ... 0.<count>), each a minute newer, one file each."""
    project = Project.objects.create(name=name, normalized_name=name)
    releases = Release.objects.bulk_create(
        Release(project=project, version=f"0.{n}") for n in range(1, count + 1)
    )
    for n, release in enumerate(releases, 1):
        release.created = SECOND.replace(hour=0) + timedelta(minutes=n)
    Release.objects.bulk_update(releases, ["created"])
    Distribution.objects.bulk_create(
        Distribution(
            project=project, release=release, filename=f"{name}-{release.version}.tar.gz",
            packagetype="sdist", size=1, sha256=f"{n:064x}", md5="", blake2b_256="",
            upload_time=SECOND, blob_path=f"{name}/{n}",
        )
        for n, release in enumerate(releases)
    )  # fmt: skip
    return project


def test_a_project_page_shows_its_newest_releases_and_links_to_all(admin_client):
    project = _project_with_releases("many", 60)
    url = reverse("admin:catalog_project_change", args=[project.pk])

    response = admin_client.get(url)

    [inline] = response.context["inline_admin_formsets"]
    shown = [form.original.version for form in inline]
    assert shown == [f"0.{n}" for n in range(60, 40, -1)]  # the 20 newest, newest first
    releases = reverse("admin:catalog_release_changelist") + f"?project__id__exact={project.pk}"
    assert f'<a href="{releases}">60 releases</a>' in response.content.decode()
    listed = admin_client.get(releases)
    assert listed.context["cl"].result_count == 60


def test_a_project_page_takes_as_many_queries_for_600_releases_as_for_30(
    admin_client, django_assert_max_num_queries
):
    small = _project_with_releases("small", 30)
    big = _project_with_releases("big", 600)
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(reverse("admin:catalog_project_change", args=[small.pk]))
    with django_assert_max_num_queries(len(queries)):
        response = admin_client.get(reverse("admin:catalog_project_change", args=[big.pk]))
    assert response.status_code == 200
    assert len(queries) <= 12


def test_saving_a_project_page_keeps_its_releases(admin_client):
    project = _project_with_releases("kept", 30)
    url = reverse("admin:catalog_project_change", args=[project.pk])
    page = admin_client.get(url)
    formset = page.context["inline_admin_formsets"][0].formset
    data = {"source": "local", **{f"{formset.prefix}-{k}": v for k, v in {
        "TOTAL_FORMS": formset.total_form_count(), "INITIAL_FORMS": formset.initial_form_count(),
        "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}.items()}}  # fmt: skip
    for n, form in enumerate(formset.forms):
        data[f"{formset.prefix}-{n}-id"] = form.instance.pk
        data[f"{formset.prefix}-{n}-project"] = project.pk

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert project.releases.count() == 30


def test_a_release_page_links_to_its_files(admin_client):
    project = _project_with_releases("linked", 2)
    release = project.releases.first()
    response = admin_client.get(reverse("admin:catalog_release_change", args=[release.pk]))
    files = reverse("admin:catalog_distribution_changelist") + f"?release__id__exact={release.pk}"
    assert f'<a href="{files}">1 distribution</a>' in response.content.decode()
    assert admin_client.get(files).context["cl"].result_count == 1
