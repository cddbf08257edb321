import pytest
from django.db import transaction

from apps.catalog import services
from apps.catalog.importing import distribution_import
from apps.catalog.models import Distribution, JournalEntry, Project, Release
from tests.support.dists import DistSpec, build_sdist, build_wheel

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(tmp_path):
    spec = DistSpec("foo", "1.0")
    distribution_import(build_wheel(spec, tmp_path))
    distribution_import(build_sdist(spec, tmp_path))
    return Project.objects.get()


def last_entry() -> JournalEntry:
    return JournalEntry.objects.latest("id")


def test_yanking_a_release_yanks_its_files_and_takes_a_serial(project):
    release = Release.objects.get()
    with transaction.atomic():
        services.release_set_yanked(release=release, reason="broken")
    assert set(Distribution.objects.values_list("yanked", "yanked_reason")) == {(True, "broken")}
    assert (last_entry().action, last_entry().version) == ("yank release", "1.0")
    project.refresh_from_db()
    assert project.last_serial == last_entry().id


def test_yanking_twice_writes_one_entry(project):
    release = Release.objects.get()
    services.release_set_yanked(release=release, reason="")
    serial = last_entry().id
    services.release_set_yanked(release=release, reason="")
    assert last_entry().id == serial


def test_unyank_clears_the_files(project):
    release = Release.objects.get()
    services.release_set_yanked(release=release, reason="x")
    services.release_set_yanked(release=release, reason=None)
    assert not Distribution.objects.filter(yanked=True).exists()
    assert last_entry().action == "unyank release"


def test_removing_the_last_file_removes_the_release(project):
    for dist in Distribution.objects.all():
        services.distribution_remove(distribution=dist)
    assert not Release.objects.exists()
    actions = list(JournalEntry.objects.order_by("-id").values_list("action", flat=True)[:2])
    assert actions == ["remove release", "remove file foo-1.0.tar.gz"]


def test_removed_project_is_marked_deleted_and_comes_back_on_publish(project, tmp_path):
    services.project_remove(project=project)
    project.refresh_from_db()
    assert project.status == Project.Status.DELETED
    assert not Distribution.objects.exists()
    assert last_entry().action == "remove project"
    distribution_import(build_wheel(DistSpec("Foo", "2.0"), tmp_path))
    project.refresh_from_db()
    assert (project.status, project.name) == (Project.Status.ACTIVE, "Foo")


def test_blocked_project_accepts_no_files(project, tmp_path):
    services.project_set_blocked(project=project, blocked=True)
    result = distribution_import(build_wheel(DistSpec("foo", "2.0"), tmp_path))
    assert "blocked" in result.detail
    assert not Release.objects.filter(version="2.0").exists()


def test_serials_are_strictly_increasing_per_change(project):
    serials = list(JournalEntry.objects.values_list("id", flat=True))
    assert serials == sorted(set(serials))
    assert len(serials) == 4  # create, new release and one per file


def test_journal_batch_writes_each_entry_and_leaves_the_newest_serial(project, tmp_path):
    with transaction.atomic():
        locked = services.project_lock(name="foo")
        with services.journal_batch(project=locked):
            dist = Distribution.objects.select_related("project", "release").first()
            services.distribution_remove(distribution=dist)  # through another instance
            services.release_set_yanked(release=Release.objects.get(), reason="x")
    project.refresh_from_db()
    assert project.last_serial == last_entry().id
    assert [e.action for e in JournalEntry.objects.order_by("-id")[:2]] == [
        "yank release",
        f"remove file {dist.filename}",
    ]
