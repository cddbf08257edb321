"""A sync from a Warehouse-shaped upstream, then an incremental one after the upstream changed,
then a no-op: through each protocol the node can plan with (PyPI JSON, XML-RPC, simple)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from packaging.utils import canonicalize_name

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution, JournalEntry, Project
from apps.replication.models import ProjectSyncState, SyncRun, Upstream

from .helpers import (
    assert_catalog_consistent,
    assert_node_mirrors,
    node_projects,
    node_served,
    store_problems,
    sync,
    upstream_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOLS = ["pypi-json", "xmlrpc", "simple"]
PROJECTS = ["Alpha", "beta", "gamma", "delta", "oldie", "omega"]


def populate(upstream) -> None:
    upstream.add_release("Alpha", "1.0", requires=["beta>=1"])
    upstream.add_release("beta", "1.0", requires_python=">=3.8")
    upstream.add_release("beta", "1.1", requires_python=">=3.8")
    upstream.add_release("gamma", "1.0")
    upstream.add_release("delta", "1.0", wheel=False)
    upstream.add_release("omega", "1.0", yanked="superseded")
    # What real PyPI holds and a mirror passes through verbatim.
    upstream.add_raw_file(
        "oldie", "2004d", "oldie-2004d.tar.bz2", b"an old bz2 sdist\n", requires_python=">=3.6,"
    )
    upstream.add_raw_file(
        "oldie",
        "0.5",
        "oldie-0.5-py2.7.egg",
        b"an egg\n",
        packagetype="bdist_egg",
        python_version="2.7",
        requires_python=">= '2.7'",
    )
    upstream.add_raw_file(
        "oldie",
        "0.5",
        "oldie-0.5.win32-py2.7.exe",
        b"a windows installer\n",
        packagetype="bdist_wininst",
        python_version="2.7",
    )
    upstream.add_raw_file("oldie", "0.4", "oldie-0.4.zip", b"a zip sdist\n")
    upstream.write()


def change(upstream) -> None:
    """A new release, a yank, a removed file and a deleted project."""
    upstream.add_release("Alpha", "2.0", requires=["beta>=1"])
    upstream.yank("beta", "1.0", "broken build")
    upstream.remove_file("gamma-1.0.tar.gz")
    upstream.delete_project("delta")
    upstream.write()


def normalized(serials: dict[str, int]) -> dict[str, int]:
    return {canonicalize_name(n): s for n, s in serials.items()}


def journal_after(serial: int) -> set[tuple[str, str | None, str]]:
    return {
        (e.normalized_name, e.version, e.action) for e in JournalEntry.objects.filter(id__gt=serial)
    }


def project_requests(server) -> list[str]:
    return [r.path for r in server.requests() if r.kind not in ("root", "xmlrpc")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_first_sync_serves_the_upstreams_files_byte_for_byte(server, upstream, client, protocol):
    populate(upstream)

    run = sync(server, protocol=protocol)

    assert (run.state, run.projects_planned, run.projects_done) == ("succeeded", 6, 6), run.errors
    assert run.files_fetched == sum(len(upstream.project(p).files()) for p in PROJECTS)
    assert set(map(canonicalize_name, node_projects(client))) == set(
        map(canonicalize_name, PROJECTS)
    )
    for name in PROJECTS:
        assert_node_mirrors(client, upstream, name)
    assert store_problems() == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_blobs_hold_the_upstreams_bytes_and_metadata(server, upstream, protocol):
    populate(upstream)

    sync(server, protocol=protocol)

    storage = blob_storage()
    packages = upstream.root / "packages"
    for name in PROJECTS:
        for _release, file in upstream.project(name).files():
            dist = Distribution.objects.get(filename=file.filename)
            assert dist.blob_path == f"packages/{file.sha256[:2]}/{file.sha256[2:]}-{file.filename}"
            stored = Path(storage.path(dist.blob_path)).read_bytes()
            assert stored == (packages / file.path).read_bytes()
            if file.metadata_sha256:
                metadata = Path(storage.path(dist.metadata_blob_path)).read_bytes()
                assert metadata == (packages / f"{file.path}.metadata").read_bytes()
                assert dist.core_metadata_sha256 == file.metadata_sha256
            else:
                assert dist.core_metadata_sha256 is None


def test_odd_but_real_files_are_mirrored_verbatim(server, upstream, client):
    populate(upstream)

    sync(server)

    served = node_served(client, "oldie")
    assert served["oldie-2004d.tar.bz2"].requires_python == ">=3.6,"
    assert served["oldie-0.5-py2.7.egg"].requires_python == ">= '2.7'"
    assert served["oldie-0.5.win32-py2.7.exe"].data == b"a windows installer\n"
    versions = dict(
        Distribution.objects.filter(project__normalized_name="oldie").values_list(
            "filename", "release__version"
        )
    )
    assert versions == {
        "oldie-2004d.tar.bz2": "2004d",
        "oldie-0.5-py2.7.egg": "0.5",
        "oldie-0.5.win32-py2.7.exe": "0.5",
        "oldie-0.4.zip": "0.4",
    }
    packagetypes = dict(
        Distribution.objects.filter(project__normalized_name="oldie").values_list(
            "filename", "packagetype"
        )
    )
    assert packagetypes["oldie-0.5-py2.7.egg"] == "bdist_egg"
    assert packagetypes["oldie-0.5.win32-py2.7.exe"] == "bdist_wininst"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_next_sync_visits_only_changed_projects_and_serves_the_new_state(
    server, upstream, client, protocol
):
    populate(upstream)
    sync(server, protocol=protocol)
    serials_before = normalized(node_projects(client))
    journal_before = JournalEntry.objects.latest("id").id
    change(upstream)
    new_files = {f.filename for f in upstream.project("alpha").releases["2.0"].files.values()}
    server.clear_requests()

    run = sync(server, protocol=protocol)

    assert (run.state, run.projects_planned, run.projects_done) == ("succeeded", 4, 4), run.errors
    assert server.requested_projects() == {"alpha", "beta", "gamma", "delta"}
    fetched = {r.path.rsplit("/", 1)[-1] for r in server.requests(kind="file")}
    assert fetched == new_files
    for name in ("Alpha", "beta", "gamma", "oldie", "omega"):
        assert_node_mirrors(client, upstream, name)
    assert node_served(client, "delta") is None
    assert Project.objects.get(normalized_name="delta").status == Project.Status.DELETED
    assert not Distribution.objects.filter(project__normalized_name="delta").exists()
    serials_after = normalized(node_projects(client))
    assert set(serials_after) == {"alpha", "beta", "gamma", "oldie", "omega"}
    for name in ("alpha", "beta", "gamma"):
        assert serials_after[name] > serials_before[name]
    for name in ("oldie", "omega"):
        assert serials_after[name] == serials_before[name]
    assert_catalog_consistent()
    assert journal_after(journal_before) == {
        ("alpha", "2.0", "new release"),
        ("alpha", "2.0", "add py3 file alpha-2.0-py3-none-any.whl"),
        ("alpha", "2.0", "add source file alpha-2.0.tar.gz"),
        ("beta", "1.0", "yank release"),
        ("gamma", "1.0", "remove file gamma-1.0.tar.gz"),
        ("delta", None, "remove project"),
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_serials_reached_follow_the_upstream(server, upstream, protocol):
    populate(upstream)
    sync(server, protocol=protocol)
    change(upstream)

    run = sync(server, protocol=protocol)

    reached = dict(
        ProjectSyncState.objects.exclude(normalized_name="delta").values_list(
            "normalized_name", "serial_reached"
        )
    )
    assert reached == {n: p.last_serial for n, p in upstream.projects.items()}
    assert Upstream.objects.get().last_serial == upstream.serial == run.serial_to


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_op_sync_touches_no_project_page(server, upstream, protocol):
    populate(upstream)
    sync(server, protocol=protocol)
    server.clear_requests()

    run = sync(server, protocol=protocol)

    assert (run.state, run.projects_planned) == ("succeeded", 0)
    assert project_requests(server) == []
    kinds = {r.kind for r in server.requests()}
    # Both protocols PyPI speaks plan from its changelog; a simple index is listed again.
    assert kinds == ({"root"} if protocol == "simple" else {"xmlrpc"})


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_display_names_are_kept(server, upstream, client, protocol):
    populate(upstream)

    sync(server, protocol=protocol)

    assert set(node_projects(client)) == set(PROJECTS)
    assert Project.objects.get(normalized_name="alpha").name == "Alpha"


def test_protocol_is_detected_from_the_upstreams_shape(server, upstream):
    populate(upstream)

    run = sync(server)

    assert run.upstream.protocol == Upstream.Protocol.PYPI_JSON
    # Each project is read from its PEP 691 page alone, which tells every file's release, size
    # and upload time here (odd old file names included): one request a project.
    assert {r.kind for r in server.requests()} >= {"root", "simple", "file"}
    simple = server.requests(kind="simple")
    assert {r.headers["Accept"] for r in simple} == {"application/vnd.pypi.simple.v1+json"}
    assert {r.project for r in simple} == {canonicalize_name(p) for p in PROJECTS}
    assert server.requests(kind="json") == []


def test_a_page_that_does_not_name_a_files_release_sends_the_sync_to_the_json_api(
    server, upstream, client
):
    """A file whose name does not give its release as the page lists it: the JSON API, which
    names each file's release, is read too, and the release is the upstream's."""
    populate(upstream)
    upstream.add_raw_file("odd", "1.0", "odd-1.0-final.tar.gz", b"an odd name\n")
    upstream.write()

    run = sync(server, protocol="pypi-json")

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    assert {r.project for r in server.requests(kind="json")} == {"odd"}
    assert Distribution.objects.get(filename="odd-1.0-final.tar.gz").release.version == "1.0"
    assert_node_mirrors(client, upstream, "odd")


def test_every_request_names_the_mirror_in_its_user_agent(server, upstream, settings):
    populate(upstream)

    sync(server, protocol="xmlrpc")  # GETs and XML-RPC POSTs

    agents = {r.headers.get("User-Agent") for r in server.requests()}
    assert agents == {settings.PYPIMIRROR_USER_AGENT}
    assert settings.PYPIMIRROR_USER_AGENT.startswith("pypimirror/")


def test_project_leased_by_a_live_worker_is_skipped(server, upstream):
    populate(upstream)
    row = upstream_for(server)
    holder = "another-host:1:cafe"
    ProjectSyncState.objects.create(
        upstream=row,
        normalized_name="beta",
        name="beta",
        lease_owner=holder,
        lease_until=timezone.now() + timedelta(minutes=1),
    )

    run = sync(row)

    assert (run.projects_done, run.projects_skipped) == (5, 1)
    assert run.errors == [{"project": "beta", "error": "another worker is syncing it"}]
    assert "beta" not in server.requested_projects()
    assert ProjectSyncState.objects.get(normalized_name="beta").lease_owner == holder


def test_expired_lease_is_taken_over_and_released(server, upstream, client):
    populate(upstream)
    row = upstream_for(server)
    ProjectSyncState.objects.create(
        upstream=row,
        normalized_name="beta",
        name="beta",
        lease_owner="another-host:1:cafe",
        lease_until=timezone.now() - timedelta(seconds=1),
    )

    run = sync(row)

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    assert_node_mirrors(client, upstream, "beta")
    assert not ProjectSyncState.objects.exclude(lease_owner="").exists()


def test_unyank_and_re_added_project_are_carried_over(server, upstream, client):
    populate(upstream)
    sync(server)
    upstream.unyank("omega", "1.0")
    upstream.delete_project("delta")
    upstream.write()
    sync(server)
    upstream.add_release("delta", "2.0")
    upstream.write()

    run = sync(server)

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    assert_node_mirrors(client, upstream, "omega")
    assert_node_mirrors(client, upstream, "delta")
    assert Project.objects.get(normalized_name="delta").status == Project.Status.ACTIVE


def test_simple_upstream_answers_conditional_requests_with_304_and_nothing_is_refetched(
    server, upstream, client
):
    populate(upstream)
    sync(server, protocol="simple")
    state = ProjectSyncState.objects.get(normalized_name="alpha")
    assert state.etag
    server.clear_requests()

    run = sync(server, protocol="simple", projects=["alpha", "beta"])

    assert (run.state, run.projects_done) == ("succeeded", 2)
    pages = server.requests(kind="simple")
    assert {r.project for r in pages} == {"alpha", "beta"}
    assert all(r.headers.get("If-None-Match") for r in pages)
    assert {r.status for r in pages} == {304}
    assert not server.requests(kind="file")


def test_simple_upstream_page_that_changed_is_refetched(server, upstream, client):
    populate(upstream)
    sync(server, protocol="simple")
    upstream.add_release("Alpha", "2.0")
    upstream.write()
    server.clear_requests()

    run = sync(server, protocol="simple", projects=["alpha", "beta"])

    assert (run.state, run.projects_done) == ("succeeded", 2)
    statuses = {r.project: r.status for r in server.requests(kind="simple")}
    assert statuses == {"alpha": 200, "beta": 304}
    assert len(server.requests(kind="file")) == 2
    assert_node_mirrors(client, upstream, "alpha")
