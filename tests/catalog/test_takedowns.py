"""Takedowns (catalog/takedowns.py): a project, a release or a file taken down with who, when
and why; removed and journaled at once, refused by publishing and by syncs while it stands;
put back from the store by a lift."""

import pytest

from apps.catalog.blobstore import blob_storage
from apps.catalog.importing import distribution_import
from apps.catalog.mirroring import ListedFile, MirrorChange, projects_mirror
from apps.catalog.models import Distribution, JournalEntry, Project, Release, Takedown
from apps.catalog.services import (
    NewDistribution,
    distribution_remove,
    project_remove,
    release_set_yanked,
)
from apps.catalog.takedowns import TakedownError, takedown_create, takedown_lift
from tests.support.dists import DistSpec, build_sdist, build_wheel

from .test_services import verified

pytestmark = pytest.mark.django_db

WHEEL = "foo-1.0-py3-none-any.whl"
SDIST = "foo-1.0.tar.gz"


@pytest.fixture
def project(tmp_path):
    for version in ("1.0", "2.0"):
        spec = DistSpec("foo", version)
        distribution_import(build_wheel(spec, tmp_path))
        distribution_import(build_sdist(spec, tmp_path))
    return Project.objects.get()


def actions(after: int = 0) -> list[str]:
    return list(
        JournalEntry.objects.filter(id__gt=after).order_by("id").values_list("action", flat=True)
    )


def serial() -> int:
    return JournalEntry.objects.latest("id").id


def take_down(**kwargs) -> Takedown:
    return takedown_create(name="foo", reason="malware", actor="alice", **kwargs)


def test_file_takedown_removes_the_file_journaled_and_keeps_who_when_why(project):
    before = serial()
    blob = Distribution.objects.get(filename=WHEEL).blob_path

    takedown = take_down(filename=WHEEL)

    assert not Distribution.objects.filter(filename=WHEEL).exists()
    assert actions(before) == [f"remove file {WHEEL}"]
    assert (takedown.scope, takedown.version, takedown.filename) == ("file", "1.0", WHEEL)
    assert (takedown.reason, takedown.created_by, takedown.standing) == ("malware", "alice", True)
    assert takedown.created_at is not None
    assert [f.filename for f in takedown.files.all()] == [WHEEL]
    assert blob_storage().exists(blob)  # kept for a lift, not served


def test_release_takedown_removes_its_files_and_the_release(project):
    before = serial()

    take_down(version="1.0")

    assert set(Distribution.objects.values_list("filename", flat=True)) == {
        "foo-2.0-py3-none-any.whl",
        "foo-2.0.tar.gz",
    }
    assert not Release.objects.filter(version="1.0").exists()
    assert sorted(actions(before)) == sorted(
        [f"remove file {WHEEL}", f"remove file {SDIST}", "remove release"]
    )


def test_release_without_files_is_removed_too(project):
    Release.objects.create(project=project, version="0.1")
    before = serial()

    take_down(version="0.1")

    assert not Release.objects.filter(version="0.1").exists()
    assert actions(before) == ["remove release"]


def test_project_takedown_blocks_the_project(project):
    before = serial()

    take_down()

    project.refresh_from_db()
    assert project.status == Project.Status.BLOCKED
    assert actions(before) == ["block project"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "nope"}, "no project named 'nope'"),
        ({"name": "../../etc/passwd"}, "no project named"),
        ({"name": "foo\x00"}, "no such project name"),
        ({"name": "f" * 300}, "no such project name"),
        ({"filename": "nope.whl"}, "has no file named 'nope.whl'"),
        ({"filename": "../foo-1.0.tar.gz"}, "has no file named"),
        ({"version": "9.9"}, "has no release '9.9'"),
        ({"version": "1.0", "filename": WHEEL}, "a release or a file, not both"),
        ({"reason": "  "}, "needs a reason"),
    ],
)
def test_bad_takedowns_are_refused_with_nothing_changed(project, kwargs, message):
    before = serial()
    arguments = {"name": "foo", "reason": "malware", "actor": "alice"} | kwargs

    with pytest.raises(TakedownError, match=message):
        takedown_create(**arguments)

    assert serial() == before
    assert Distribution.objects.count() == 4
    assert not Takedown.objects.exists()


def test_taking_down_twice_is_refused(project):
    take_down(filename=WHEEL)
    take_down(version="2.0")
    take_down()
    with pytest.raises(TakedownError, match="already taken down"):
        take_down(filename=WHEEL)
    with pytest.raises(TakedownError, match="already taken down"):
        take_down(version="2.0")
    with pytest.raises(TakedownError, match="already taken down"):
        take_down()


def test_a_taken_down_file_is_not_imported_again(project, tmp_path):
    take_down(filename=WHEEL)
    again = tmp_path / "again"
    again.mkdir()

    result = distribution_import(build_wheel(DistSpec("foo", "1.0"), again))

    assert "taken down" in result.detail
    assert not Distribution.objects.filter(filename=WHEEL).exists()


def test_a_new_file_of_a_taken_down_release_is_not_accepted(project, tmp_path):
    distribution_remove(distribution=Distribution.objects.get(filename=WHEEL))
    take_down(version="1.0")  # holds the sdist alone
    again = tmp_path / "again"
    again.mkdir()

    result = distribution_import(build_wheel(DistSpec("foo", "1.0"), again))

    assert "taken down" in result.detail
    assert not Release.objects.filter(version="1.0").exists()


def test_a_sync_leaves_taken_down_files_out_and_brings_the_others(project, tmp_path):
    Project.objects.filter(pk=project.pk).update(source="upstream:1")
    take_down(filename=WHEEL)
    take_down(version="2.0")
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    fetched = [
        NewDistribution(verified(upstream, DistSpec("foo", v)), v, "bdist_wheel", "py3")
        for v in ("1.0", "2.0", "3.0")
    ]
    listed = {n.file.filename: ListedFile(n.file.sha256) for n in fetched}
    listed[SDIST] = ListedFile(Distribution.objects.get(filename=SDIST).sha256)
    change = MirrorChange(name="foo", source="upstream:1", listed=listed, fetched=fetched)

    (result,) = projects_mirror([change])

    assert result.error == ""
    assert sorted(Distribution.objects.values_list("filename", flat=True)) == [
        "foo-1.0.tar.gz",
        "foo-3.0-py3-none-any.whl",
    ]


def test_lift_puts_the_file_back_from_the_store_journaled_and_keeps_the_history(project):
    row = Distribution.objects.filter(filename=WHEEL).values().get()
    takedown = take_down(filename=WHEEL)
    before = serial()

    lifted = takedown_lift(takedown_id=takedown.pk, actor="bob")

    assert lifted.restored == [WHEEL] and lifted.left == {}
    restored = Distribution.objects.filter(filename=WHEEL).values().get()
    ignored = {"id", "release_id"}
    assert {k: v for k, v in restored.items() if k not in ignored} == {
        k: v for k, v in row.items() if k not in ignored
    }
    assert actions(before) == [f"add py3 file {WHEEL}"]
    takedown.refresh_from_db()
    assert (takedown.lifted_by, takedown.standing, takedown.reason) == ("bob", False, "malware")
    with pytest.raises(TakedownError, match="lifted already"):
        takedown_lift(takedown_id=takedown.pk, actor="bob")


def test_lift_of_a_release_brings_the_release_back_yanked_as_it_was(project):
    release_set_yanked(release=Release.objects.get(version="1.0"), reason="old")
    takedown = take_down(version="1.0")

    lifted = takedown_lift(takedown_id=takedown.pk, actor="bob")

    assert sorted(lifted.restored) == [WHEEL, SDIST]
    release = Release.objects.get(version="1.0")
    assert (release.yanked, release.yanked_reason) == (True, "old")


def test_lift_leaves_a_file_whose_blob_is_gone_to_the_next_sync(project):
    takedown = take_down(filename=WHEEL)
    blob_storage().delete(takedown.files.get().blob_path)

    lifted = takedown_lift(takedown_id=takedown.pk, actor="bob")

    assert lifted.restored == []
    assert lifted.left == {WHEEL: "its blob is no longer in the store"}
    assert not Distribution.objects.filter(filename=WHEEL).exists()


def test_lift_leaves_a_file_another_takedown_holds(project):
    file_takedown = take_down(filename=WHEEL)
    take_down(version="1.0")

    lifted = takedown_lift(takedown_id=file_takedown.pk, actor="bob")

    assert lifted.left == {WHEEL: "another takedown holds it"}
    assert not Distribution.objects.filter(filename=WHEEL).exists()


def test_lift_of_a_project_takedown_unblocks_it(project):
    takedown = take_down()
    before = serial()

    takedown_lift(takedown_id=takedown.pk, actor="bob")

    project.refresh_from_db()
    assert project.status == Project.Status.ACTIVE
    assert actions(before) == ["unblock project"]
    assert Distribution.objects.count() == 4


def test_a_deleted_project_taken_down_is_deleted_again_when_lifted(project):
    project_remove(project=project)
    takedown = take_down()  # so that no sync brings the name back
    before = serial()

    takedown_lift(takedown_id=takedown.pk, actor="bob")

    project.refresh_from_db()
    assert project.status == Project.Status.DELETED
    assert actions(before) == ["unblock project", "remove project"]


def test_lift_of_an_unknown_takedown_is_refused():
    with pytest.raises(TakedownError, match="no takedown #999"):
        takedown_lift(takedown_id=999, actor="bob")
