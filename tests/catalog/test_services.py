import pytest
from django.db import transaction

from apps.catalog import services
from apps.catalog.blobstore import blob_put_file
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


def verified(tmp_path, spec: DistSpec, *, sdist: bool = False):
    path = (build_sdist if sdist else build_wheel)(spec, tmp_path)
    with path.open("rb") as source:
        return blob_put_file(source, filename=path.name)


def test_publishing_many_files_at_once_journals_each_in_order(tmp_path):
    files = [
        services.NewDistribution(
            file=verified(tmp_path, DistSpec("bar", version), sdist=sdist),
            version=version,
            packagetype="sdist" if sdist else "bdist_wheel",
            release_metadata={"summary": f"bar {version}"} if not sdist else {},
        )
        for version in ("1.0", "2.0")
        for sdist in (True, False)
    ]
    with transaction.atomic():
        project = services.project_lock(name="bar", create=True)
        published = services.distributions_publish(project=project, new=files)
        again = services.distributions_publish(project=project, new=files[:1])

    assert [d.filename for d in published] == [f.file.filename for f in files]
    assert again[0].pk == published[0].pk  # present with the same bytes: nothing new
    assert dict(Release.objects.values_list("version", "metadata__summary")) == {
        "1.0": "bar 1.0",
        "2.0": "bar 2.0",
    }
    entries = list(JournalEntry.objects.order_by("id").values_list("action", "version"))
    assert entries == [
        ("create", None),
        ("new release", "1.0"),
        (f"add source file {files[0].file.filename}", "1.0"),
        (f"add source file {files[1].file.filename}", "1.0"),
        ("new release", "2.0"),
        (f"add source file {files[2].file.filename}", "2.0"),
        (f"add source file {files[3].file.filename}", "2.0"),
    ]
    project.refresh_from_db()
    assert project.last_serial == last_entry().id


def test_publishing_a_filename_held_with_other_bytes_writes_nothing(project, tmp_path):
    held = Distribution.objects.get(filename__endswith=".whl")
    (tmp_path / "other").mkdir()
    other = verified(tmp_path / "other", DistSpec("foo", "1.0", summary="other bytes"))
    assert (other.filename, other.sha256 != held.sha256) == (held.filename, True)
    serial = last_entry().id
    with pytest.raises(services.CatalogError), transaction.atomic():
        services.distributions_publish(
            project=services.project_lock(name="foo"),
            new=[services.NewDistribution(file=other, version="1.0", packagetype="bdist_wheel")],
        )
    assert Distribution.objects.get(filename=held.filename).sha256 == held.sha256
    assert last_entry().id == serial


def test_removing_files_together_removes_the_releases_they_empty(project):
    with transaction.atomic():
        locked = services.project_lock(name="foo")
        services.distributions_remove(
            project=locked, distributions=list(Distribution.objects.select_related("release"))
        )
    assert not Release.objects.exists()
    actions = list(JournalEntry.objects.order_by("-id").values_list("action", flat=True)[:3])
    assert actions[0] == "remove release"
    assert sorted(actions[1:]) == [
        "remove file foo-1.0-py3-none-any.whl",
        "remove file foo-1.0.tar.gz",
    ]


@pytest.mark.parametrize("probably_new", [False, True])
def test_project_lock_creates_a_project_once_whichever_it_tries_first(probably_new, project):
    with transaction.atomic(), services.journal_batch(name="bar"):
        created = services.project_lock(name="Bar", create=True, probably_new=probably_new)
    with transaction.atomic():
        held = services.project_lock(name="foo", create=True, probably_new=probably_new)
        again = services.project_lock(name="bar", create=True, probably_new=probably_new)

    assert (held.pk, again.pk) == (project.pk, created.pk)
    assert Project.objects.get(pk=created.pk).name == "Bar"
    creates = JournalEntry.objects.filter(action="create")
    assert list(creates.values_list("name", flat=True).order_by("id")) == ["foo", "Bar"]
    assert Project.objects.get(pk=created.pk).last_serial == creates.latest("id").id


def test_a_new_project_publishing_twice_in_one_batch_keeps_one_release_per_version(tmp_path):
    files = [
        services.NewDistribution(
            file=blob_put_file(build_wheel(DistSpec("new", "1.0"), tmp_path).open("rb"),
                               filename=f"new-1.0-py{n}-none-any.whl"),
            version="1.0",
            packagetype="bdist_wheel",
        )
        for n in (2, 3)
    ]  # fmt: skip
    with transaction.atomic(), services.journal_batch(name="new"):
        project = services.project_lock(name="new", create=True, probably_new=True)
        services.distributions_publish(project=project, new=files[:1])
        services.distributions_publish(project=project, new=files[1:])

    assert Release.objects.filter(project__normalized_name="new").count() == 1
    assert Distribution.objects.filter(project__normalized_name="new").count() == 2
