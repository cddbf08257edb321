"""A node replicates the real pypiserver (a simple-only index), then follows its changes.

One scenario in three steps, each a module fixture that records what it saw: the first sync
into an empty node; a sync after the pypiserver directory changed (a release added, a file
removed, a project gone); a sync with nothing changed. Tests compare the node with the files on
pypiserver's disk, which are the truth.
"""

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import clients
from tests.support.dists import DistSpec, build_chain, build_sdist, build_wheel
from tests.support.servers import LiveServer, PypiServer, Request, live_server, pypiserver

from .installs import expected_versions, installed_versions
from .nodes import (
    listed_files,
    node_serial,
    project_names,
    project_serial,
    served_files,
    sha256s,
    sync,
    sync_runs,
)
from .pages import FileEntry

pytestmark = pytest.mark.e2e

EVOLVING_1 = DistSpec(name="evolving", version="1.0")
EVOLVING_2 = DistSpec(name="evolving", version="2.0")
DOOMED = DistSpec(name="doomed", version="1.0")


@dataclass
class SyncStep:
    """One ``manage.py sync`` and what the node and pypiserver showed right after it."""

    result: subprocess.CompletedProcess
    upstream_files: dict[str, str]  # on pypiserver's disk: filename → sha256
    served: dict[str, str]  # downloaded from the node through its links
    listed: dict[str, FileEntry]
    projects: list[str]
    serials: dict[str, int]  # project → X-PyPI-Last-Serial on the node
    root_serial: int
    upstream_requests: list[Request]
    run: dict  # the newest entry of /api/v1/sync-runs/

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def _sync_step(node: LiveServer, upstream: PypiServer, url: str) -> SyncStep:
    mark = upstream.log_mark()
    result = sync(node, url)
    projects = project_names(node.url)
    return SyncStep(
        result=result,
        upstream_files=sha256s(upstream.directory),
        served=served_files(node.url),
        listed=listed_files(node.url),
        projects=projects,
        serials={name: project_serial(node.url, name) for name in projects},
        root_serial=node_serial(node.url),
        upstream_requests=upstream.requests_since(mark),
        run=sync_runs(node.url)[0],
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> tuple[Path, list[DistSpec]]:
    """pypiserver's directory: a chain of wheels and sdists, and two projects that will change."""
    directory = tmp_path_factory.mktemp("pypiserver-packages")
    specs = build_chain(directory, prefix="ppchain")
    for spec in (EVOLVING_1, DOOMED):
        build_wheel(spec, directory)
        build_sdist(spec, directory)
    return directory, specs


@pytest.fixture(scope="module")
def upstream(chain) -> Iterator[PypiServer]:
    with pypiserver(chain[0]) as server:
        yield server


@pytest.fixture(scope="module")
def node() -> Iterator[LiveServer]:
    with live_server() as server:
        yield server


@pytest.fixture(scope="module")
def first(node, upstream) -> SyncStep:
    """The first sync into an empty node, by pypiserver's simple index URL."""
    return _sync_step(node, upstream, upstream.index_url)


@pytest.fixture(scope="module")
def changed(first, node, upstream) -> SyncStep:
    """pypiserver gains a release, loses a file and a whole project; synced by its base URL."""
    directory = upstream.directory
    build_wheel(EVOLVING_2, directory)
    (directory / "evolving-1.0.tar.gz").unlink()
    for path in directory.glob("doomed-*"):
        path.unlink()
    return _sync_step(node, upstream, upstream.url)


@pytest.fixture(scope="module")
def unchanged(changed, node, upstream) -> SyncStep:
    return _sync_step(node, upstream, upstream.index_url)


def test_first_sync_from_pypiserver_exits_zero(first):
    assert first.result.returncode == 0, first.output
    assert first.run["state"] == "succeeded"
    assert first.run["files_fetched"] == len(first.upstream_files)


def test_first_sync_serves_every_pypiserver_file_byte_for_byte(first):
    assert first.served == first.upstream_files
    assert first.projects == ["doomed", "evolving", "ppchain-0", "ppchain-1", "ppchain-2"]


def test_first_sync_reads_pypiserver_by_its_simple_pages_alone(first):
    """pypiserver has no JSON API and no changelog: pages and files are all a sync can use."""
    paths = {r.path for r in first.upstream_requests if r.status == 200}
    pages = {p for p in paths if p.startswith("/simple/")}
    files = {p.rsplit("/", 1)[-1] for p in paths if p.startswith("/packages/")}
    assert pages == {"/simple/", *(f"/simple/{name}/" for name in first.projects)}
    assert files == set(first.upstream_files)


def test_pip_installs_a_chain_synced_from_pypiserver(first, chain, node, tmp_path):
    _directory, specs = chain
    python = clients.new_target_venv(tmp_path / "venv")

    clients.pip_install(python, specs[-1].name, index_url=node.index_url)

    assert installed_versions(python, specs) == expected_versions(specs)


def test_sync_after_pypiserver_changed_exits_zero(changed):
    assert changed.result.returncode == 0, changed.output
    assert changed.run["state"] == "succeeded"


def test_sync_after_pypiserver_changed_serves_exactly_its_new_files(changed):
    assert "evolving-2.0-py3-none-any.whl" in changed.served
    assert "evolving-1.0.tar.gz" not in changed.listed
    assert changed.served == changed.upstream_files


def test_sync_fetches_only_the_file_added_on_pypiserver(changed):
    fetched = [r.path for r in changed.upstream_requests if r.path.startswith("/packages/")]
    assert fetched == ["/packages/evolving-2.0-py3-none-any.whl"]
    assert changed.run["files_fetched"] == 1


def test_file_removed_on_pypiserver_is_gone_from_the_node(first, changed):
    old_url = first.listed["evolving-1.0.tar.gz"].url
    assert httpx.get(old_url, timeout=10).status_code == 404


def test_project_gone_from_pypiserver_is_gone_from_the_node(first, changed, node):
    assert "doomed" not in changed.projects
    assert httpx.get(f"{node.url}/simple/doomed/", timeout=10).status_code == 404
    assert httpx.get(f"{node.url}/pypi/doomed/json", timeout=10).status_code == 404
    for filename in ("doomed-1.0-py3-none-any.whl", "doomed-1.0.tar.gz"):
        assert httpx.get(first.listed[filename].url, timeout=10).status_code == 404


def test_sync_advances_the_serials_of_what_changed_and_no_other(first, changed):
    assert changed.serials["evolving"] > first.serials["evolving"]
    assert changed.root_serial > first.root_serial
    for name in ("ppchain-0", "ppchain-1", "ppchain-2"):
        assert changed.serials[name] == first.serials[name]


def test_base_url_and_simple_url_name_one_upstream(first, changed, node, upstream):
    """``sync http://host:port/simple/`` then ``sync http://host:port``: one upstream, one state."""
    runs = sync_runs(node.url)
    assert len(runs) >= 2
    assert {(run["upstream"], run["upstream_url"]) for run in runs} == {
        (first.run["upstream"], upstream.url)
    }


def test_noop_sync_from_pypiserver_fetches_no_file(unchanged):
    assert unchanged.result.returncode == 0, unchanged.output
    assert [r for r in unchanged.upstream_requests if r.path.startswith("/packages/")] == []
    assert unchanged.run["files_fetched"] == 0
    assert unchanged.run["state"] == "succeeded"


def test_noop_sync_changes_nothing_the_node_serves(changed, unchanged):
    assert unchanged.served == changed.served
    assert unchanged.serials == changed.serials
    assert unchanged.root_serial == changed.root_serial


def test_project_gone_behind_pypiservers_fallback_is_not_taken_from_another_host(tmp_path):
    """pypiserver by default redirects a project it lacks to pypi.org. When a private project
    disappears, the node must not replace it with the same name from the fallback host
    (dependency confusion): the fallback here is a second pypiserver on loopback."""
    private, public = tmp_path / "private", tmp_path / "public"
    private.mkdir()
    public.mkdir()
    build_wheel(DistSpec(name="inhouse", version="1.0"), private)
    build_wheel(DistSpec(name="steady", version="1.0"), private)
    build_wheel(DistSpec(name="inhouse", version="6.6"), public)
    with (
        pypiserver(public) as fallback,
        pypiserver(private, fallback_url=fallback.index_url) as upstream,
        live_server() as node,
    ):
        assert sync(node, upstream.index_url).returncode == 0
        (private / "inhouse-1.0-py3-none-any.whl").unlink()
        mark = fallback.log_mark()

        assert sync(node, upstream.index_url).returncode == 0

        assert "inhouse-6.6-py3-none-any.whl" not in listed_files(node.url)
        assert [r.path for r in fallback.requests_since(mark)] == []
        # Unlisted and redirected elsewhere: the removal is carried over, nothing is taken.
        assert httpx.get(f"{node.url}/simple/inhouse/").status_code == 404
        assert httpx.get(f"{node.url}/simple/steady/").status_code == 200
