"""Making a project match its source (catalog/mirroring.py): one project, many new ones together,
and a project of another source never touched. That the bulk path leaves what the one-by-one
path would is checked through a real sync in tests/replication/test_publish.py."""

import pytest
from django.db import transaction

from apps.catalog.importing import distribution_import
from apps.catalog.mirroring import (
    ListedFile,
    MirrorChange,
    _new_projects_publish,
    project_mirror,
    projects_mirror,
)
from apps.catalog.models import Distribution, JournalEntry, Project
from apps.catalog.services import CatalogError, NewDistribution
from apps.catalog.sources import LOCAL
from tests.support.dists import DistSpec, build_wheel

from .test_services import verified

pytestmark = pytest.mark.django_db

SOURCE = "upstream:1"


def change(tmp_path, name: str, version: str = "1.0", *, yanked=None, **kw) -> MirrorChange:
    file = verified(tmp_path, DistSpec(name, version))
    wheel = NewDistribution(
        file, version, "bdist_wheel", python_version="py3", yanked_reason=yanked
    )
    listed = {file.filename: ListedFile(file.sha256, yanked)}
    return MirrorChange(
        name=name, source=SOURCE, listed=listed, fetched=[wheel], held_any=False, **kw
    )


def actions(name: str) -> list[str]:
    return list(
        JournalEntry.objects.filter(normalized_name=name)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_new_projects_are_created_together_with_their_files_serials_and_source(tmp_path):
    results = projects_mirror([change(tmp_path, "Beta"), change(tmp_path, "alpha", yanked="x")])

    assert [(r.files, r.error, r.shadowed_by) for r in results] == [(1, "", None)] * 2
    for project in Project.objects.all():
        wheel = f"{project.normalized_name}-1.0-py3-none-any.whl"
        expected = ["create", "new release", f"add py3 file {wheel}"]
        if project.normalized_name == "alpha":
            expected.append("yank release")
        assert actions(project.normalized_name) == expected
        assert (
            project.last_serial
            == JournalEntry.objects.filter(normalized_name=project.normalized_name).latest("id").id
        )
        assert project.source == SOURCE
    assert Project.objects.get(normalized_name="beta").name == "Beta"


def test_a_name_held_here_goes_alone_and_a_deleted_one_of_the_source_comes_back(tmp_path):
    Project.objects.create(
        name="alpha", normalized_name="alpha", status=Project.Status.DELETED, source=SOURCE
    )

    results = projects_mirror([change(tmp_path, "alpha"), change(tmp_path, "beta")])

    assert [r.files for r in results] == [1, 1]
    alpha = Project.objects.get(normalized_name="alpha")
    assert alpha.status == Project.Status.ACTIVE
    assert actions("alpha") == ["create", "new release", "add py3 file alpha-1.0-py3-none-any.whl"]


def test_a_local_project_is_shadowed_and_left_as_it_is(tmp_path):
    (tmp_path / "local").mkdir()
    distribution_import(build_wheel(DistSpec("six", "1.17.0"), tmp_path / "local"))
    before = (list(Distribution.objects.values_list("filename", "sha256")), actions("six"))

    results = projects_mirror([change(tmp_path, "six", "1.16.0"), change(tmp_path, "idna")])
    gone = project_mirror(MirrorChange(name="six", source=SOURCE, listed=None))

    assert results[0].shadowed_by == LOCAL and results[0].files == 0
    assert gone.shadowed_by == LOCAL
    assert (list(Distribution.objects.filter(project__normalized_name="six").values_list(
        "filename", "sha256")), actions("six")) == before  # fmt: skip
    assert Project.objects.get(normalized_name="six").source == LOCAL
    assert Project.objects.get(normalized_name="idna").source == SOURCE


def test_files_the_source_no_longer_lists_are_removed_and_failed_ones_kept(tmp_path):
    first = change(tmp_path, "alpha", "1.0")
    project_mirror(first)
    second = change(tmp_path, "alpha", "2.0")
    second.held_any = True
    project_mirror(second)  # 1.0 no longer listed: removed
    assert list(Distribution.objects.values_list("filename", flat=True)) == [
        "alpha-2.0-py3-none-any.whl"
    ]
    assert actions("alpha")[-4:] == [
        "remove file alpha-1.0-py3-none-any.whl",
        "remove release",
        "new release",
        "add py3 file alpha-2.0-py3-none-any.whl",
    ]
    third = change(tmp_path, "alpha", "3.0")
    third.held_any = True
    third.listed["alpha-2.0-py3-none-any.whl"] = ListedFile("0" * 64)  # other bytes, not fetched
    third.failed = frozenset({"alpha-2.0-py3-none-any.whl"})
    project_mirror(third)
    assert sorted(Distribution.objects.values_list("filename", flat=True)) == [
        "alpha-2.0-py3-none-any.whl",
        "alpha-3.0-py3-none-any.whl",
    ]


@pytest.mark.parametrize("twice", ["Alpha", "alpha"])
def test_a_project_listed_twice_is_refused_together_then_goes_alone(tmp_path, twice):
    first = change(tmp_path, "alpha")
    second = MirrorChange(
        name=twice, source=SOURCE, listed=first.listed, fetched=first.fetched, held_any=False
    )
    with pytest.raises(CatalogError, match="listed twice"), transaction.atomic():
        _new_projects_publish([first, second])
    assert not Project.objects.exists()
    results = projects_mirror([first, second])  # one by one: the second finds it there
    assert [r.error for r in results] == ["", ""]
    assert Distribution.objects.count() == 1
