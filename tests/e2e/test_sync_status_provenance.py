"""Simple API 1.4 across tiers: a Warehouse-shaped upstream serving PEP 740 provenance and the
four PEP 792 statuses, node A syncing from it, node B from A; pip and uv install from B.

One scenario, each step a module fixture: A and B sync while every project is active; then
the upstream archives one project without a serial (as PyPI does), quarantines one and
deprecates one; A syncs and runs a day of its status re-read; B syncs from A.
"""

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import clients
from tests.support.html_proxy import html_only_proxy
from tests.support.servers import LiveServer, live_server
from tests.support.upstream import UpstreamServer, WarehouseUpstream

from .nodes import sync
from .pages import HTML_V1, JSON_V1, parse_html

pytestmark = pytest.mark.e2e

PROJECTS = ["signed", "archived-one", "quarantined-one", "deprecated-one", "plain"]
STATUSES = {
    "signed": {"status": "active"},
    "archived-one": {"status": "archived"},
    "quarantined-one": {"status": "quarantined"},
    "deprecated-one": {"status": "deprecated", "reason": "use signed"},
    "plain": {"status": "active"},
}
REREAD_A_DAY = (
    "from apps.replication.status_reread import PARTS\n"
    "from apps.replication.tasks import reread_project_statuses\n"
    "for part in range(PARTS):\n"
    "    reread_project_statuses(part)\n"
)


@dataclass(frozen=True)
class Tiers:
    upstream: WarehouseUpstream
    server: UpstreamServer
    node_a: LiveServer
    node_b: LiveServer


@pytest.fixture(scope="module")
def tiers(tmp_path_factory) -> Iterator[Tiers]:
    upstream = WarehouseUpstream(tmp_path_factory.mktemp("upstream-1.4"))
    upstream.add_release("signed", "1.0", provenance=True)
    upstream.add_release("signed", "2.0", provenance=True)
    upstream.add_release("archived-one", "1.0", provenance=True)
    upstream.add_release("quarantined-one", "1.0", provenance=True)
    upstream.add_release("deprecated-one", "1.0", requires=["signed>=2"], provenance=True)
    upstream.add_release("plain", "1.0")
    with UpstreamServer(upstream) as server, live_server() as node_a, live_server() as node_b:
        yield Tiers(upstream, server, node_a, node_b)


def _checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def first(tiers) -> Tiers:
    """A from the upstream, B from A, all projects active."""
    _checked(sync(tiers.node_a, tiers.server.url))
    _checked(sync(tiers.node_b, f"{tiers.node_a.url}/"))
    return tiers


@pytest.fixture(scope="module")
def changed(first) -> Tiers:
    upstream = first.upstream
    upstream.set_status("archived-one", "archived", journal=False)
    upstream.set_status("quarantined-one", "quarantined")
    upstream.set_status("deprecated-one", "deprecated", "use signed")
    upstream.write()
    _checked(sync(first.node_a, first.server.url))
    first.node_a.shell(REREAD_A_DAY)
    _checked(sync(first.node_b, f"{first.node_a.url}/"))
    return first


def page(url: str, name: str, accept: str) -> httpx.Response:
    response = httpx.get(f"{url}/simple/{name}/", headers={"Accept": accept}, timeout=10)
    response.raise_for_status()
    return response


def statuses(url: str) -> dict[str, dict]:
    """Each project's status from its JSON page, checked against its HTML page."""
    found = {}
    for name in PROJECTS:
        status = page(url, name, JSON_V1).json()["project-status"]
        meta = parse_html(page(url, name, HTML_V1).text).meta
        assert meta["pypi:repository-version"] == "1.4"
        assert meta["pypi:project-status"] == status["status"], name
        assert meta.get("pypi:project-status-reason") == status.get("reason"), name
        found[name] = status
    return found


def provenance(url: str, name: str) -> dict[str, bytes | None]:
    """Each listed file's provenance document, fetched from the URL the page gives (which must
    be on the node's own host, in both formats)."""
    document = page(url, name, JSON_V1).json()
    anchors = {text: attrs for attrs, text in parse_html(page(url, name, HTML_V1).text).anchors}
    found = {}
    for entry in document["files"]:
        link = entry["provenance"]
        assert anchors[entry["filename"]].get("data-provenance") == link
        if link is None:
            found[entry["filename"]] = None
            continue
        assert link.startswith(f"{url}/integrity/{name}/"), link
        response = httpx.get(
            link, headers={"Accept": "application/vnd.pypi.integrity.v1+json"}, timeout=10
        )
        response.raise_for_status()
        assert response.headers["content-type"] == "application/vnd.pypi.integrity.v1+json"
        found[entry["filename"]] = response.content
    return found


def upstream_provenance(upstream: WarehouseUpstream, name: str) -> dict[str, bytes | None]:
    return {f.filename: f.provenance for _r, f in upstream.project(name).files()}


def installed(python: Path, *modules: str) -> dict[str, str]:
    """``VERSION`` of each module, imported in the target venv."""
    script = (
        "import importlib, sys\nfor m in sys.argv[1:]: print(m, importlib.import_module(m).VERSION)"
    )
    result = clients.run([python, "-I", "-c", script, *modules], env=clients.isolated_env())
    return dict(line.split() for line in result.stdout.splitlines())


def test_first_syncs_carry_provenance_byte_for_byte_to_both_nodes(first):
    for node in (first.node_a, first.node_b):
        for name in PROJECTS:
            assert provenance(node.url, name) == upstream_provenance(first.upstream, name)
        assert all(s == {"status": "active"} for s in statuses(node.url).values())


def test_both_nodes_serve_the_upstreams_statuses(changed):
    assert statuses(changed.node_a.url) == STATUSES
    assert statuses(changed.node_b.url) == STATUSES


def test_a_quarantined_project_offers_no_files_on_either_node(changed):
    for node in (changed.node_a, changed.node_b):
        assert page(node.url, "quarantined-one", JSON_V1).json()["files"] == []
        assert parse_html(page(node.url, "quarantined-one", HTML_V1).text).anchors == []
        for _release, file in changed.upstream.project("quarantined-one").files():
            h = file.sha256
            file_url = f"{node.url}/packages/{h[:2]}/{h[2:4]}/{h[4:]}/{file.filename}"
            assert httpx.get(file_url, timeout=10).status_code == 404, file.filename


def test_archived_and_deprecated_projects_keep_their_provenance(changed):
    for node in (changed.node_a, changed.node_b):
        for name in ("archived-one", "deprecated-one", "signed"):
            assert provenance(node.url, name) == upstream_provenance(changed.upstream, name)


def test_pip_installs_from_the_second_node(changed, tmp_path):
    python = clients.new_target_venv(tmp_path / "venv")
    clients.pip_install(python, "deprecated-one", index_url=changed.node_b.index_url)
    assert installed(python, "deprecated_one", "signed") == {
        "deprecated_one": "1.0",
        "signed": "2.0",
    }


def test_uv_installs_from_the_second_node(changed, tmp_path):
    python = clients.new_target_venv(tmp_path / "venv")
    clients.uv_pip_install(
        python,
        "archived-one",
        "signed==1.0",
        index_url=changed.node_b.index_url,
        cache_dir=tmp_path / "cache",
    )
    assert installed(python, "archived_one", "signed") == {"archived_one": "1.0", "signed": "1.0"}


def test_pip_and_uv_install_from_the_second_nodes_html_pages(changed, tmp_path):
    with html_only_proxy(changed.node_b.url) as proxy:
        index_url = f"{proxy.url}/simple/"
        python = clients.new_target_venv(tmp_path / "pip")
        clients.pip_install(python, "deprecated-one", index_url=index_url)
        assert installed(python, "deprecated_one", "signed") == {
            "deprecated_one": "1.0",
            "signed": "2.0",
        }
        python = clients.new_target_venv(tmp_path / "uv")
        clients.uv_pip_install(
            python, "archived-one", index_url=index_url, cache_dir=tmp_path / "cache"
        )
        assert installed(python, "archived_one") == {"archived_one": "1.0"}
        with pytest.raises(clients.ClientError):
            clients.pip_install(python, "quarantined-one", index_url=index_url)
    assert {path for path, _type in proxy.pages} >= {
        "/simple/deprecated-one/",
        "/simple/signed/",
        "/simple/archived-one/",
        "/simple/quarantined-one/",
    }
    assert {content_type.split(";")[0] for _path, content_type in proxy.pages} == {"text/html"}


def test_pip_finds_nothing_to_install_of_a_quarantined_project(changed, tmp_path):
    python = clients.new_target_venv(tmp_path / "venv")
    with pytest.raises(clients.ClientError, match="from versions: none"):
        clients.pip_install(python, "quarantined-one", index_url=changed.node_b.index_url)


def test_the_provenance_digest_is_what_the_node_serves(changed):
    # The ETag of a provenance document is its sha256, as for files.
    url = page(changed.node_b.url, "signed", JSON_V1).json()["files"][0]["provenance"]
    response = httpx.get(url, timeout=10)
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
