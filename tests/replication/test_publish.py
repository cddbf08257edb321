"""Projects new to the node are published many in one transaction (``publish_many``): what they
leave in the catalog and its journal is what one transaction per project leaves, and a project
that cannot go with the others goes alone, failing only itself."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Distribution, JournalEntry, Project, Release
from apps.replication import batch_sync, services
from apps.replication.models import ProjectSyncState, SyncRun, Upstream

from .helpers import assert_catalog_consistent, assert_node_mirrors, store_problems, upstream_for
from .test_services import PROJECTS, populate

pytestmark = pytest.mark.django_db(transaction=True)


def sync_in_one_batch(server) -> tuple[SyncRun, list[batch_sync.Outcome], list[str]]:
    """Plan, then sync every project in one batch, as one worker's task; returns the SQL too."""
    run, names = services.sync_run_start(
        upstream=upstream_for(server), trigger=SyncRun.Trigger.COMMAND
    )
    with CaptureQueriesContext(connection) as queries:
        outcomes = batch_sync.projects_sync(run=run, names=names)
    run.refresh_from_db()
    return run, outcomes, [q["sql"] for q in queries.captured_queries]


FILE_FIELDS = (
    "filename", "release__version", "packagetype", "python_version", "size", "sha256", "md5",
    "blake2b_256", "requires_python", "upload_time", "yanked", "yanked_reason",
    "core_metadata_sha256", "blob_path",
)  # fmt: skip


def catalog_snapshot() -> dict:
    """Everything a client or a downstream mirror can see, ids and times left out; each
    project's journal in its order."""
    journal: dict[str, list] = {}
    for entry in JournalEntry.objects.order_by("id"):
        journal.setdefault(entry.normalized_name, []).append((entry.version, entry.action))
    return {
        "projects": sorted(
            Project.objects.values_list(
                "name", "normalized_name", "status", "index_status", "index_status_reason"
            )
        ),
        "releases": sorted(
            Release.objects.values_list(
                "project__normalized_name", "version", "yanked", "yanked_reason", "metadata"
            ),
            key=repr,
        ),
        "files": sorted(Distribution.objects.values_list(*FILE_FIELDS), key=repr),
        "journal": journal,
    }


def forget_catalog() -> None:
    Project.objects.all().delete()
    JournalEntry.objects.all().delete()
    ProjectSyncState.objects.all().delete()
    SyncRun.objects.all().delete()
    Upstream.objects.update(last_serial=0, listing_etag="")


def test_new_projects_published_together_leave_what_one_by_one_would(
    server, upstream, client, monkeypatch
):
    for version in ("1.0", "2.0", "3.0"):  # each release's yank journaled, in their order
        upstream.add_release("yanked-thrice", version, yanked=f"bad {version}")
    populate(upstream)
    upstream.set_status("yanked-thrice", "deprecated", "use beta")  # PEP 792, journaled
    upstream.write()
    names = [*PROJECTS, "yanked-thrice"]
    files = sum(len(upstream.project(p).files()) for p in names)
    done = ("succeeded", len(names), files)
    monkeypatch.setattr(batch_sync, "PUBLISH_MAX", 1)
    run, _outcomes, sql = sync_in_one_batch(server)
    assert (run.state, run.projects_done, run.files_fetched) == done, run.errors
    one_by_one = catalog_snapshot()
    assert sum('INSERT INTO "catalog_project"' in q for q in sql) == len(names)
    forget_catalog()

    monkeypatch.setattr(batch_sync, "PUBLISH_MAX", 50)
    run, _outcomes, sql = sync_in_one_batch(server)

    assert (run.state, run.projects_done, run.files_fetched) == done, run.errors
    assert sum('INSERT INTO "catalog_project"' in q for q in sql) == 1
    assert catalog_snapshot() == one_by_one
    assert ("superseded" in str(one_by_one["releases"])) and any(
        ("1.0", "yank release") in entries for entries in one_by_one["journal"].values()
    )
    for project in Project.objects.all():
        newest = JournalEntry.objects.filter(normalized_name=project.normalized_name).latest("id")
        assert project.last_serial == newest.id
    assert [a for _v, a in one_by_one["journal"]["yanked-thrice"]].count("yank release") == 3
    assert ("yanked-thrice", "yanked-thrice", "active", "deprecated", "use beta") in one_by_one[
        "projects"
    ]
    for name in names:
        assert_node_mirrors(client, upstream, name)
    assert_catalog_consistent()
    assert store_problems() == []


def test_a_project_that_cannot_go_with_the_others_fails_alone(server, upstream, client):
    populate(upstream)
    # Another project here holds one of gamma's filenames, with other bytes.
    squatter = Project.objects.create(name="squatter", normalized_name="squatter")
    taken = Distribution.objects.create(
        project=squatter, release=Release.objects.create(project=squatter, version="1.0"),
        filename="gamma-1.0.tar.gz", packagetype="sdist", size=1, sha256="0" * 64, md5="0" * 32,
        blake2b_256="0" * 64, upload_time="2020-01-01T00:00:00Z", blob_path="packages/x/gamma",
    )  # fmt: skip

    run, outcomes, _sql = sync_in_one_batch(server)

    assert (run.projects_done, run.projects_failed) == (5, 1)
    assert [e["project"] for e in run.errors] == ["gamma"]
    assert "already present with other bytes" in run.errors[0]["error"]
    assert outcomes.count(batch_sync.Outcome.FAILED) == 1
    for name in set(PROJECTS) - {"gamma"}:
        assert_node_mirrors(client, upstream, name)
    assert not Project.objects.filter(normalized_name="gamma").exists()
    assert Distribution.objects.get(filename="gamma-1.0.tar.gz").pk == taken.pk


def test_a_name_held_here_without_files_is_published_on_its_own(server, upstream, client):
    populate(upstream)
    source = upstream_for(server).source  # deleted at this upstream before: still its own
    Project.objects.create(
        name="gamma", normalized_name="gamma", status=Project.Status.DELETED, source=source
    )

    run, _outcomes, _sql = sync_in_one_batch(server)

    assert (run.state, run.projects_done) == ("succeeded", 6), run.errors
    gamma = Project.objects.get(normalized_name="gamma")
    assert gamma.status == Project.Status.ACTIVE
    assert_node_mirrors(client, upstream, "gamma")
    assert JournalEntry.objects.filter(normalized_name="gamma").first().action == "create"
    assert_catalog_consistent()
