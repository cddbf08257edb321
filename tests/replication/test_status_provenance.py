"""Simple API 1.4 from a Warehouse-shaped upstream: PEP 740 provenance fetched, stored and
served from this node; PEP 792 statuses carried over, journaled or (PyPI's archival, without a
serial) re-read by the periodic task."""

import hashlib
from urllib.parse import urlsplit

import pytest

from apps.catalog.models import Distribution, JournalEntry, Project
from apps.replication import status_reread
from apps.replication.tasks import reread_project_statuses
from tests.support.upstream import Fault

from .helpers import JSON_V1, assert_catalog_consistent, node_served, sync, upstream_for

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOLS = ["pypi-json", "xmlrpc", "simple"]


def populate(upstream) -> None:
    upstream.add_release("Alpha", "1.0", provenance=True)
    upstream.add_release("beta", "1.0")
    upstream.add_release("gamma", "1.0", provenance=True)
    upstream.add_release("delta", "1.0")
    upstream.set_status("beta", "deprecated", "use alpha")
    upstream.write()


def upstream_provenance(upstream, name: str) -> dict[str, bytes | None]:
    return {f.filename: f.provenance for _r, f in upstream.project(name).files()}


def node_provenance(client, name: str) -> dict[str, bytes | None]:
    """Each file the node lists for ``name`` with the provenance document behind its URL."""
    page = client.get(f"/simple/{name}/", HTTP_ACCEPT=JSON_V1).json()
    found = {}
    for entry in page["files"]:
        url = entry["provenance"]
        if url is None:
            found[entry["filename"]] = None
            continue
        assert url.startswith("http://testserver/integrity/"), url  # this node, not upstream
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/vnd.pypi.integrity.v1+json"
        found[entry["filename"]] = b"".join(response.streaming_content)
    return found


def status(client, name: str) -> dict:
    return client.get(f"/simple/{name}/", HTTP_ACCEPT=JSON_V1).json()["project-status"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_provenance_and_statuses_are_carried_over(server, upstream, client, protocol):
    populate(upstream)

    run = sync(server, protocol=protocol)

    assert run.errors == []
    for name in ("alpha", "beta", "gamma", "delta"):
        assert node_provenance(client, name) == upstream_provenance(upstream, name), name
    assert status(client, "beta") == {"status": "deprecated", "reason": "use alpha"}
    assert status(client, "alpha") == {"status": "active"}
    assert Distribution.objects.filter(provenance_sha256__isnull=False).count() == 4
    assert_catalog_consistent()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_quarantine_hides_the_files_and_lifting_it_shows_them_without_refetching(
    server, upstream, client, protocol
):
    populate(upstream)
    sync(server, protocol=protocol)
    upstream.set_status("alpha", "quarantined")
    upstream.write()

    run = sync(server, protocol=protocol)

    assert run.errors == []
    assert status(client, "alpha") == {"status": "quarantined"}
    assert node_served(client, "alpha") == {}
    assert Distribution.objects.filter(project__normalized_name="alpha").count() == 2
    assert JournalEntry.objects.filter(action="project status quarantined").count() == 1
    if protocol != "simple":  # unlisted upstream, as on PyPI: not visited again
        server.clear_requests()
        sync(server, protocol=protocol)
        assert "alpha" not in server.requested_projects()

    upstream.set_status("alpha", "active")
    upstream.write()
    server.clear_requests()
    sync(server, protocol=protocol)

    assert status(client, "alpha") == {"status": "active"}
    assert node_provenance(client, "alpha") == upstream_provenance(upstream, "alpha")
    assert not server.requests(kind="file")
    assert_catalog_consistent()


@pytest.mark.parametrize("protocol", ["pypi-json", "xmlrpc"])
def test_an_archival_without_a_serial_is_found_by_the_status_re_read(
    server, upstream, client, protocol
):
    populate(upstream)
    sync(server, protocol=protocol)
    upstream.set_status("gamma", "archived", journal=False)  # as PyPI archives
    upstream.write()

    sync(server, protocol=protocol)
    assert status(client, "gamma") == {"status": "active"}  # no serial: the sync cannot know

    for part in range(status_reread.PARTS):  # what a day of the hourly task reads
        reread_project_statuses(part)

    assert status(client, "gamma") == {"status": "archived"}
    assert JournalEntry.objects.filter(action="project status archived").count() == 1
    assert status(client, "beta") == {"status": "deprecated", "reason": "use alpha"}
    reads = {r.project for r in server.requests(kind="simple")}
    assert reads >= {"alpha", "beta", "gamma", "delta"}
    assert_catalog_consistent()


def test_the_re_read_is_rate_limited_and_writes_only_changes(server, upstream):
    populate(upstream)
    row = upstream_for(server, "pypi-json")
    sync(row)
    serial = JournalEntry.objects.latest("id").id
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    result = status_reread.upstream_statuses_reread(
        upstream=row, part=0, parts=1, rate=0.5, sleep=sleep, clock=lambda: now[0]
    )

    assert (result.read, result.changed, result.errors) == (4, [], [])
    assert JournalEntry.objects.latest("id").id == serial
    assert waits == [2.0, 2.0, 2.0]  # 4 pages, 2 s apart


def test_re_read_parts_cover_every_project_once(server, upstream):
    populate(upstream)
    row = upstream_for(server, "pypi-json")
    sync(row)
    server.clear_requests()
    for part in range(4):
        status_reread.upstream_statuses_reread(upstream=row, part=part, parts=4, rate=0)
    projects = sorted(r.project for r in server.requests(kind="simple"))
    assert projects == ["alpha", "beta", "delta", "gamma"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_hostile_provenance_fails_its_file_alone(server, upstream, client, protocol):
    upstream.add_raw_file("bad", "1.0", "bad-1.0.tar.gz", b"not json\n", provenance=b"{nope")
    upstream.add_raw_file("bad", "1.1", "bad-1.1.tar.gz", b"a list\n", provenance=b"[1]")
    upstream.add_raw_file("bad", "1.2", "bad-1.2.tar.gz", b"huge\n", provenance=True)
    far = upstream.add_raw_file("bad", "1.3", "bad-1.3.tar.gz", b"far away\n", provenance=True)
    far.provenance_url = "http://example.invalid/integrity/bad/1.3/bad-1.3.tar.gz/provenance"
    upstream.add_raw_file("bad", "1.4", "bad-1.4.tar.gz", b"a good one\n", provenance=True)
    upstream.write()
    server.add_fault(
        Fault(oversize=2 * 1024 * 1024), path="/integrity/bad/1.2/bad-1.2.tar.gz/provenance"
    )

    run = sync(server, protocol=protocol)

    [error] = [e["error"] for e in run.errors]
    assert "bad-1.0.tar.gz: provenance is not JSON" in error
    assert "bad-1.1.tar.gz: provenance is not a JSON object" in error
    assert "bad-1.2.tar.gz: provenance larger than" in error
    assert "bad-1.3.tar.gz: provenance on another host than the index" in error
    assert node_provenance(client, "bad") == {
        "bad-1.4.tar.gz": upstream_provenance(upstream, "bad")["bad-1.4.tar.gz"]
    }
    stored = Distribution.objects.get(filename="bad-1.4.tar.gz").provenance_sha256
    assert (
        stored == hashlib.sha256(upstream_provenance(upstream, "bad")["bad-1.4.tar.gz"]).hexdigest()
    )
    assert not Project.objects.filter(index_status="quarantined").exists()


def test_the_re_read_fills_in_provenance_of_files_held_without_it(server, upstream, client):
    upstream.add_release("Alpha", "1.0")
    upstream.write()
    row = upstream_for(server, "pypi-json")
    sync(row)
    for _release, file in upstream.project("alpha").files():
        upstream.add_provenance(file.filename)
    upstream.write()
    sync(row)
    assert set(node_provenance(client, "alpha").values()) == {None}  # held: not fetched again

    result = status_reread.upstream_statuses_reread(upstream=row, part=0, parts=1, rate=0)

    assert sorted(result.provenance_added) == sorted(upstream_provenance(upstream, "alpha"))
    assert node_provenance(client, "alpha") == upstream_provenance(upstream, "alpha")
    actions = set(JournalEntry.objects.values_list("action", flat=True))
    assert {f"add provenance {name}" for name in result.provenance_added} <= actions
    serial = JournalEntry.objects.latest("id").id
    again = status_reread.upstream_statuses_reread(upstream=row, part=0, parts=1, rate=0)
    assert (again.provenance_added, again.errors) == ([], [])
    assert JournalEntry.objects.latest("id").id == serial
    assert_catalog_consistent()


def test_a_bad_provenance_found_by_the_re_read_is_an_error_and_sets_nothing(server, upstream):
    upstream.add_release("Alpha", "1.0", wheel=False)
    upstream.write()
    row = upstream_for(server, "pypi-json")
    sync(row)
    [(_release, sdist)] = upstream.project("alpha").files()
    upstream.add_provenance(sdist.filename, b"not json")
    upstream.write()

    result = status_reread.upstream_statuses_reread(upstream=row, part=0, parts=1, rate=0)

    assert result.provenance_added == []
    [error] = result.errors
    assert error.startswith(f"alpha: {sdist.filename}: provenance is not JSON")
    assert Distribution.objects.get().provenance_sha256 is None
