"""One source per project (architecture.md, invariant 6), through real syncs: a project of
another source is never added to, changed or removed by a sync, which records it as shadowed;
import_dists refuses an upstream's project; staff hand a project over in the admin."""

import importlib
from html.parser import HTMLParser

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from apps.catalog.models import Distribution, JournalEntry, Project
from apps.catalog.sources import LOCAL
from apps.replication.models import ProjectSyncState
from tests.support.dists import DistSpec, build_sdist, build_wheel

from .helpers import assert_catalog_consistent, node_served, sync, upstream_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def six_local(tmp_path):
    """six 1.17.0 imported on this node (a wheel and an sdist), then an upstream that holds
    other versions of six, and idna."""
    folder = tmp_path / "local"
    folder.mkdir()
    build_wheel(DistSpec("six", "1.17.0"), folder)
    build_sdist(DistSpec("six", "1.17.0"), folder)
    call_command("import_dists", str(folder))
    return sorted(Distribution.objects.values_list("filename", "sha256"))


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "checkbox"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def form_fields(page: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(page)
    return parser.fields


def six_files() -> list[tuple[str, str]]:
    return sorted(
        Distribution.objects.filter(project__normalized_name="six").values_list(
            "filename", "sha256"
        )
    )


@pytest.mark.parametrize("protocol", ["pypi-json", "simple"])
def test_a_local_project_survives_a_sync_and_is_listed_as_shadowed(
    six_local, server, upstream, client, protocol, capsys
):
    upstream.add_release("six", "1.16.0")
    upstream.add_release("six", "1.17.0")  # the same name of file, other bytes
    upstream.add_release("idna", "3.10")
    upstream.write()
    journal = list(JournalEntry.objects.filter(normalized_name="six").values_list("id", "action"))

    run = sync(server, protocol=protocol)

    assert (run.state, run.projects_done, run.projects_shadowed) == ("succeeded", 1, 1)
    assert run.shadowed == [{"project": "six", "owner": "local"}]
    assert six_files() == six_local
    assert set(node_served(client, "six")) == {f for f, _h in six_local}
    assert (
        list(JournalEntry.objects.filter(normalized_name="six").values_list("id", "action"))
        == journal
    )
    assert Project.objects.get(normalized_name="six").source == LOCAL
    assert Project.objects.get(normalized_name="idna").source == upstream_for(server).source
    assert node_served(client, "idna")
    api = client.get("/api/v1/sync-runs/").json()["results"][0]
    assert (api["projects_shadowed"], api["shadowed"]) == (1, run.shadowed)

    upstream.add_release("six", "1.18.0")  # a change upstream: still left alone
    upstream.write()
    again = sync(server, protocol=protocol)
    assert again.state == "succeeded" and six_files() == six_local
    assert_catalog_consistent()


def test_the_sync_command_names_the_shadowed_projects(six_local, server, upstream, capsys):
    upstream.add_release("six", "1.16.0")
    upstream.write()
    call_command("sync", server.url, "--in-process")
    out = capsys.readouterr().out
    assert "; 1 shadowed." in out
    assert "six: local" in out


def test_import_dists_refuses_a_project_an_upstream_owns(server, upstream, tmp_path, capsys):
    upstream.add_release("six", "1.16.0")
    upstream.write()
    sync(server)
    before = (six_files(), JournalEntry.objects.count(), Project.objects.get().last_serial)
    folder = tmp_path / "local"
    folder.mkdir()
    build_wheel(DistSpec("six", "1.17.0"), folder)

    with pytest.raises(CommandError) as excinfo:
        call_command("import_dists", str(folder))

    assert excinfo.value.returncode == 1
    err = capsys.readouterr().err
    assert "six belongs to upstream " in err and "hand it to another source" in err
    assert (six_files(), JournalEntry.objects.count(), Project.objects.get().last_serial) == before


def test_staff_hand_a_local_project_to_the_upstream_in_the_admin(
    six_local, server, upstream, client
):
    upstream.add_release("six", "1.16.0")
    upstream.write()
    row = upstream_for(server)
    shadowing = sync(server)
    assert shadowing.projects_shadowed == 1
    staff = User.objects.create_superuser("staff", "staff@example.org", "pw")
    client.force_login(staff)
    run_page = client.get(f"/admin/replication/syncrun/{shadowing.pk}/change/").content.decode()
    assert "<li><b>six</b>: owned by local</li>" in run_page
    project = Project.objects.get(normalized_name="six")

    page = client.get(f"/admin/catalog/project/{project.pk}/change/").content.decode()
    assert f'value="{row.source}"' in page
    form = form_fields(page)  # what a browser posts back, the inline's management form too
    response = client.post(
        f"/admin/catalog/project/{project.pk}/change/", {**form, "source": row.source}, follow=True
    )
    assert response.status_code == 200
    assert f"now belongs to upstream {row.name}" in response.content.decode()
    project.refresh_from_db()
    assert project.source == row.source
    assert six_files() == six_local  # nothing served changes until the next sync

    run = sync(server)

    assert (run.state, run.projects_done, run.projects_shadowed) == ("succeeded", 1, 0)
    assert [f for f, _h in six_files()] == ["six-1.16.0-py3-none-any.whl", "six-1.16.0.tar.gz"]
    removed = JournalEntry.objects.filter(normalized_name="six", action__startswith="remove file")
    assert removed.count() == 2
    assert_catalog_consistent()


def test_a_project_gone_upstream_but_owned_here_is_not_removed(six_local, server, upstream):
    upstream.add_release("six", "1.16.0")
    upstream.add_release("idna", "3.10")
    upstream.write()
    sync(server)
    upstream.delete_project("six")
    upstream.delete_project("idna")
    upstream.write()

    sync(server)

    assert six_files() == six_local
    assert Project.objects.get(normalized_name="six").status == Project.Status.ACTIVE
    assert Project.objects.get(normalized_name="idna").status == Project.Status.DELETED


def test_the_migration_gives_synced_projects_to_their_upstream(server, upstream, tmp_path):
    upstream.add_release("idna", "3.10")
    upstream.write()
    sync(server)
    Project.objects.update(source=LOCAL)  # as before the field existed
    folder = tmp_path / "local"
    folder.mkdir()
    build_wheel(DistSpec("mine", "1.0"), folder)
    call_command("import_dists", str(folder))
    migration = importlib.import_module("apps.replication.migrations.0005_assign_project_sources")

    migration.assign(django_apps, None)

    assert dict(Project.objects.values_list("normalized_name", "source")) == {
        "idna": upstream_for(server).source,
        "mine": LOCAL,
    }
    assert ProjectSyncState.objects.filter(normalized_name="mine").count() == 0
