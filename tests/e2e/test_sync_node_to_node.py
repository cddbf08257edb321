"""Node B replicates node A (both this project), bandersnatch 8 mirrors B; then A changes.

One scenario, each step a module fixture that records what it saw: B's first sync from A;
bandersnatch's first run on B; A gains a release, yanks one, loses a file and a project, and B
syncs again; bandersnatch runs again. A's files on disk and A's own pages are the truth.
"""

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from packaging.utils import canonicalize_name

from tests.support import clients
from tests.support.dists import DistSpec, build_chain, build_sdist, build_wheel, wheel_metadata
from tests.support.servers import LiveServer, Request, live_server

from .nodes import (
    listed_files,
    mirrored_files,
    node_serial,
    project_names,
    project_serial,
    served_files,
    served_metadata,
    sha256s,
    sync,
)
from .pages import JSON_V1, FileEntry

pytestmark = pytest.mark.e2e

ODD = "Odd.Name_Project"
ODD_YANK = 'broken <build> & "quotes"'
ALPHA_YANK = "superseded by 1.1"
CHANGED = ["alpha", "beta", "gamma", "newrel"]  # what the change on A touches
UNCHANGED = ["odd-name-project", "relay-0", "relay-1", "relay-2"]
CHANGE_ON_A = f"""
from django.db import transaction
from apps.catalog.models import Distribution
from apps.catalog import services
with transaction.atomic():
    alpha = services.project_lock(name="alpha")
    services.release_set_yanked(release=alpha.releases.get(version="1.0"), reason={ALPHA_YANK!r})
with transaction.atomic():
    services.project_lock(name="beta")
    services.distribution_remove(distribution=Distribution.objects.get(filename="beta-1.0.tar.gz"))
with transaction.atomic():
    services.project_remove(project=services.project_lock(name="gamma"))
"""


@dataclass
class SyncStep:
    """B's ``manage.py sync http://A/`` and what A and B showed right after it."""

    result: subprocess.CompletedProcess
    a_requests: list[Request]
    a_served: dict[str, str]
    b_served: dict[str, str]
    b_listed: dict[str, FileEntry]
    b_projects: list[str]
    b_serials: dict[str, int]
    b_root_serial: int

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


@dataclass
class MirrorRun:
    result: subprocess.CompletedProcess
    web: Path
    b_requests: list[Request]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def _sync_step(node_a: LiveServer, node_b: LiveServer) -> SyncStep:
    mark = node_a.log_mark()
    result = sync(node_b, f"{node_a.url}/")
    a_requests = node_a.requests_since(mark)
    projects = project_names(node_b.url)
    return SyncStep(
        result=result,
        a_requests=a_requests,
        a_served=served_files(node_a.url),
        b_served=served_files(node_b.url),
        b_listed=listed_files(node_b.url),
        b_projects=projects,
        b_serials={name: project_serial(node_b.url, name) for name in projects},
        b_root_serial=node_serial(node_b.url),
    )


def _mirror(node_b: LiveServer, config: Path) -> MirrorRun:
    mark = node_b.log_mark()
    result = clients.bandersnatch_mirror(clients.bandersnatch8_venv(), config=config)
    return MirrorRun(
        result=result, web=config.parent / "mirror" / "web", b_requests=node_b.requests_since(mark)
    )


def project_pages(requests: list[Request]) -> list[str]:
    """The projects whose PEP 691 page (``/simple/<name>/``) was asked for, each once. A node's
    pages tell all a sync needs: its JSON API is not asked (checked by the callers)."""
    return sorted(
        {
            canonicalize_name(r.path.split("/")[2])
            for r in requests
            if r.path.startswith("/simple/") and r.path.count("/") == 3
        }
    )


def json_api_asked(requests: list[Request]) -> list[str]:
    return [r.path for r in requests if r.path.startswith("/pypi/")]


def _comparable_json_api(url: str, name: str) -> dict:
    """A's or B's ``/pypi/<name>/json`` without what differs by node: its URL and serial."""
    response = httpx.get(f"{url}/pypi/{name}/json", timeout=10)
    response.raise_for_status()
    data = response.json()
    kept = {key: data[key] for key in ("info", "releases", "urls")}
    return json.loads(json.dumps(kept).replace(url, "http://node"))


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """A's files at the start, and the release imported into A later."""
    first = tmp_path_factory.mktemp("node-a-dists")
    build_chain(first, prefix="relay")
    for version in ("1.0", "2.0"):
        spec = DistSpec(name=ODD, version=version, requires_python=">=3.8,<4")
        build_wheel(spec, first)
        build_sdist(spec, first)
    for version in ("1.0", "1.1"):
        build_wheel(DistSpec(name="alpha", version=version), first)
    build_wheel(DistSpec(name="beta", version="1.0"), first)
    build_sdist(DistSpec(name="beta", version="1.0"), first)
    build_wheel(DistSpec(name="gamma", version="1.0"), first)
    build_wheel(DistSpec(name="newrel", version="1.0"), first)
    added = tmp_path_factory.mktemp("node-a-added")
    build_wheel(DistSpec(name="newrel", version="2.0", requires=["relay-2"]), added)
    build_sdist(DistSpec(name="newrel", version="2.0", requires=["relay-2"]), added)
    return first, added


@pytest.fixture(scope="module")
def node_a(dists) -> Iterator[LiveServer]:
    with live_server(dists=[dists[0]]) as server:
        server.shell(
            "from django.db import transaction\n"
            "from apps.catalog import services\n"
            "with transaction.atomic():\n"
            "    project = services.project_lock(name='odd-name-project')\n"
            "    release = project.releases.get(version='1.0')\n"
            f"    services.release_set_yanked(release=release, reason={ODD_YANK!r})\n"
        )
        yield server


@pytest.fixture(scope="module")
def node_b() -> Iterator[LiveServer]:
    with live_server() as server:
        yield server


@pytest.fixture(scope="module")
def first(node_a, node_b) -> SyncStep:
    return _sync_step(node_a, node_b)


@pytest.fixture(scope="module")
def bandersnatch_config(first, node_b, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("bandersnatch-on-b")
    config = directory / "bandersnatch.conf"
    config.write_text(
        clients.bandersnatch_config(master=node_b.url, directory=directory / "mirror")
    )
    return config


@pytest.fixture(scope="module")
def mirror_first(first, node_b, bandersnatch_config) -> MirrorRun:
    return _mirror(node_b, bandersnatch_config)


@pytest.fixture(scope="module")
def changed(mirror_first, dists, node_a, node_b) -> SyncStep:
    """A changes through its operator's tools (import, catalog services); B syncs again."""
    node_a.manage("import_dists", str(dists[1]))
    node_a.shell(CHANGE_ON_A)
    return _sync_step(node_a, node_b)


@pytest.fixture(scope="module")
def mirror_again(changed, node_b, bandersnatch_config) -> MirrorRun:
    return _mirror(node_b, bandersnatch_config)


# B's first sync


def test_first_sync_from_a_node_exits_zero(first):
    assert first.result.returncode == 0, first.output


def test_first_sync_serves_every_file_of_the_upstream_node_byte_for_byte(first, dists):
    assert first.a_served == sha256s(dists[0])
    assert first.b_served == first.a_served


def test_first_sync_serves_the_same_core_metadata_as_the_upstream_node(first, node_a, node_b):
    metadata = served_metadata(node_b.url)
    wheels = {name for name in first.b_served if name.endswith(".whl")}
    assert set(metadata) == wheels
    assert metadata == served_metadata(node_a.url)


def test_first_sync_serves_metadata_exactly_as_in_the_wheels(first, dists, node_b):
    metadata = served_metadata(node_b.url)
    for path in dists[0].glob("*.whl"):
        assert metadata[path.name] == wheel_metadata(path), path.name


def test_first_sync_carries_yanks_and_requires_python_over(first):
    wheel = first.b_listed["odd_name_project-1.0-py3-none-any.whl"]
    assert wheel.yanked == ODD_YANK
    assert wheel.requires_python == ">=3.8,<4"
    assert first.b_listed["odd_name_project-2.0-py3-none-any.whl"].yanked is None


def test_json_api_of_the_replica_matches_the_upstream_node(first, node_a, node_b):
    for name in first.b_projects:
        assert _comparable_json_api(node_b.url, name) == _comparable_json_api(node_a.url, name)


def test_first_sync_reads_the_upstream_node_by_json_root_and_project_pages(first):
    assert ("GET", "/simple/", 200) in [(r.method, r.path, r.status) for r in first.a_requests]
    assert project_pages(first.a_requests) == first.b_projects
    assert json_api_asked(first.a_requests) == []
    assert [r for r in first.a_requests if r.status >= 400] == []


# bandersnatch 8 on B


def test_bandersnatch8_mirrors_the_replica_completely(mirror_first, dists):
    assert mirror_first.result.returncode == 0, mirror_first.output
    assert "Stale serial" not in mirror_first.output
    assert mirrored_files(mirror_first.web) == sha256s(dists[0])


def test_bandersnatch8_mirrors_the_replicas_core_metadata(mirror_first, dists):
    for path in dists[0].glob("*.whl"):
        (copy,) = (mirror_first.web / "packages").rglob(f"{path.name}.metadata")
        assert copy.read_bytes() == wheel_metadata(path), path.name


# A changes, B syncs again


def test_sync_after_the_upstream_node_changed_exits_zero(changed):
    assert changed.result.returncode == 0, changed.output


def test_sync_asks_the_upstream_node_only_about_changed_projects(changed):
    assert project_pages(changed.a_requests) == CHANGED
    assert json_api_asked(changed.a_requests) == []


def test_sync_downloads_only_the_new_release_from_the_upstream_node(changed, dists):
    fetched = sorted(
        r.path.rsplit("/", 1)[-1] for r in changed.a_requests if r.path.startswith("/packages/")
    )
    assert fetched == sorted(sha256s(dists[1]))


def test_sync_after_changes_serves_exactly_the_upstream_nodes_new_files(changed, dists):
    expected = sha256s(dists[0]) | sha256s(dists[1])
    for gone in ("beta-1.0.tar.gz", "gamma-1.0-py3-none-any.whl"):
        del expected[gone]
    assert changed.a_served == expected
    assert changed.b_served == expected


def test_yank_on_the_upstream_node_shows_on_the_replica(changed, node_b):
    assert changed.b_listed["alpha-1.0-py3-none-any.whl"].yanked == ALPHA_YANK
    assert changed.b_listed["alpha-1.1-py3-none-any.whl"].yanked is None
    html = httpx.get(f"{node_b.url}/simple/alpha/", timeout=10).text
    assert f'data-yanked="{ALPHA_YANK}"' in html
    page = httpx.get(f"{node_b.url}/simple/alpha/", headers={"Accept": JSON_V1}, timeout=10)
    yanked = {f["filename"]: f["yanked"] for f in page.json()["files"]}
    assert yanked == {"alpha-1.0-py3-none-any.whl": ALPHA_YANK, "alpha-1.1-py3-none-any.whl": False}
    (release,) = httpx.get(f"{node_b.url}/pypi/alpha/json", timeout=10).json()["releases"]["1.0"]
    assert (release["yanked"], release["yanked_reason"]) == (True, ALPHA_YANK)


def test_file_removed_on_the_upstream_node_is_gone_from_the_replica(first, changed):
    assert "beta-1.0.tar.gz" not in changed.b_listed
    assert httpx.get(first.b_listed["beta-1.0.tar.gz"].url, timeout=10).status_code == 404


def test_project_deleted_on_the_upstream_node_is_gone_from_the_replica(first, changed, node_b):
    assert "gamma" not in changed.b_projects
    assert httpx.get(f"{node_b.url}/simple/gamma/", timeout=10).status_code == 404
    assert httpx.get(f"{node_b.url}/pypi/gamma/json", timeout=10).status_code == 404
    old_url = first.b_listed["gamma-1.0-py3-none-any.whl"].url
    assert httpx.get(old_url, timeout=10).status_code == 404


def test_sync_advances_the_replicas_serials_for_changed_projects_only(first, changed):
    assert changed.b_root_serial > first.b_root_serial
    for name in ("alpha", "beta", "newrel"):
        assert changed.b_serials[name] > first.b_serials[name], name
    for name in UNCHANGED:
        assert changed.b_serials[name] == first.b_serials[name], name


def test_json_api_of_the_replica_matches_the_upstream_node_after_changes(changed, node_a, node_b):
    for name in changed.b_projects:
        assert _comparable_json_api(node_b.url, name) == _comparable_json_api(node_a.url, name)


# bandersnatch 8 on B again


def test_bandersnatch8_next_run_syncs_the_projects_that_changed_on_the_replica(mirror_again):
    assert mirror_again.result.returncode == 0, mirror_again.output
    assert "Stale serial" not in mirror_again.output
    synced = sorted(r.path for r in mirror_again.b_requests if r.path.endswith("/json"))
    assert synced == ["/pypi/alpha/json", "/pypi/beta/json", "/pypi/newrel/json"]


def test_bandersnatch8_next_run_picks_up_the_change(mirror_again, dists, changed, node_b):
    mirrored = mirrored_files(mirror_again.web)
    for name, sha256 in sha256s(dists[1]).items():
        assert mirrored[name] == sha256
    alpha = json.loads((mirror_again.web / "json" / "alpha").read_text())
    assert alpha["releases"]["1.0"][0]["yanked_reason"] == ALPHA_YANK
    beta_page = (mirror_again.web / "simple" / "beta" / "index.html").read_text()
    assert "beta-1.0.tar.gz" not in beta_page and "beta-1.0-py3-none-any.whl" in beta_page
    # bandersnatch 8 reaches the newest serial of the projects B lists; B's own serial is
    # higher when its newest change removed a project (gamma), which no listing shows.
    status = (mirror_again.web.parent / "status").read_text().strip()
    assert int(status) == max(changed.b_serials.values())
    assert int(status) <= node_serial(node_b.url)
