"""Publishing projects new to the node together (catalog/new_projects.py); that it leaves what
one transaction per project would is checked by tests/replication/test_publish.py."""

import pytest
from django.db import transaction

from apps.catalog.models import Distribution, JournalEntry, Project
from apps.catalog.new_projects import NewProject, new_projects_publish
from apps.catalog.services import CatalogError, NewDistribution
from tests.support.dists import DistSpec

from .test_services import verified

pytestmark = pytest.mark.django_db


def new(tmp_path, name: str) -> NewProject:
    file = verified(tmp_path, DistSpec(name, "1.0"))
    wheel = NewDistribution(file, "1.0", "bdist_wheel", python_version="py3")
    return NewProject(name=name, distributions=[wheel])


def test_projects_are_created_with_their_files_and_serials(tmp_path):
    with transaction.atomic():
        published = new_projects_publish([new(tmp_path, "Beta"), new(tmp_path, "alpha")])

    assert sorted(published) == ["alpha", "beta"]
    for project in Project.objects.all():
        entries = JournalEntry.objects.filter(normalized_name=project.normalized_name)
        assert [e.action for e in entries] == [
            "create", "new release", f"add py3 file {project.normalized_name}-1.0-py3-none-any.whl"
        ]  # fmt: skip
        assert project.last_serial == entries.last().id
    assert Project.objects.get(normalized_name="beta").name == "Beta"


def test_a_name_held_here_is_left_out_untouched(tmp_path):
    Project.objects.create(name="alpha", normalized_name="alpha", status=Project.Status.DELETED)

    with transaction.atomic():
        published = new_projects_publish([new(tmp_path, "alpha"), new(tmp_path, "beta")])

    assert list(published) == ["beta"]
    alpha = Project.objects.get(normalized_name="alpha")
    assert (alpha.status, alpha.last_serial) == (Project.Status.DELETED, 0)
    assert not Distribution.objects.filter(project=alpha).exists()


@pytest.mark.parametrize("twice", ["Alpha", "alpha"])
def test_a_project_listed_twice_is_refused(tmp_path, twice):
    first = new(tmp_path, "alpha")
    second = NewProject(name=twice, distributions=first.distributions)
    with pytest.raises(CatalogError, match="listed twice"), transaction.atomic():
        new_projects_publish([first, second])
    assert not Project.objects.exists()
