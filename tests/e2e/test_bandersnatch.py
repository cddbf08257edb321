"""bandersnatch 8 (simple JSON root) and 6 (XML-RPC changelog) mirror a live node completely."""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from packaging.utils import canonicalize_name

from tests.support import clients
from tests.support.dists import DistSpec, build_chain, build_wheel, file_sha256, wheel_metadata
from tests.support.servers import Request, live_server

from .nodes import mirrored_files, node_serial, project_name

pytestmark = pytest.mark.e2e

TOOLS = {
    "bandersnatch8": (clients.bandersnatch8_venv, ()),
    # 6.x reads the changelog over XML-RPC (its default; said here so the test cannot drift).
    "bandersnatch6": (clients.bandersnatch6_venv, ("api-method = xmlrpc",)),
}


@dataclass
class MirrorRun:
    tool: str
    venv: clients.ToolVenv
    config: Path
    web: Path
    result: object
    requests: list[Request]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


@pytest.fixture(scope="module", params=sorted(TOOLS))
def mirror(request, index_server, tmp_path_factory) -> MirrorRun:
    """One first run of the tool against the node, into an empty directory."""
    make_venv, extra = TOOLS[request.param]
    venv = make_venv()
    directory = tmp_path_factory.mktemp(request.param)
    config = directory / "bandersnatch.conf"
    config.write_text(
        clients.bandersnatch_config(
            master=index_server.url, directory=directory / "mirror", extra=extra
        )
    )
    mark = index_server.log_mark()
    result = clients.bandersnatch_mirror(venv, config=config)
    return MirrorRun(
        tool=request.param,
        venv=venv,
        config=config,
        web=directory / "mirror" / "web",
        result=result,
        requests=index_server.requests_since(mark),
    )


def test_bandersnatch_mirror_run_succeeds_without_stale_pages(mirror):
    assert mirror.result.returncode == 0, mirror.output
    assert "Stale serial" not in mirror.output
    assert "Giving up" not in mirror.output
    assert "Traceback" not in mirror.output


def test_bandersnatch_lists_the_node_through_its_own_protocol(mirror):
    """8.x reads the PEP 691 JSON root; 6.x the XML-RPC changelog, then the JSON API."""
    xmlrpc = [r for r in mirror.requests if r.method == "POST" and r.path in {"/pypi", "/pypi/"}]
    simple_root = [r for r in mirror.requests if r.method == "GET" and r.path == "/simple/"]
    if mirror.tool == "bandersnatch6":
        assert xmlrpc and all(r.status == 200 for r in xmlrpc)
    else:
        assert not xmlrpc and simple_root and all(r.status == 200 for r in simple_root)
    assert [r for r in mirror.requests if r.path.endswith("/json") and r.status != 200] == []


def test_bandersnatch_fetches_only_from_the_node(mirror, index_server):
    """Every URL it names (the master, each download) is on the node: nothing else is asked."""
    urls = re.findall(r"https?://[^\s'\"),/]+", mirror.output)
    hosts = {urlsplit(url).netloc.rstrip(".") for url in urls}
    assert hosts == {urlsplit(index_server.url).netloc}


def test_bandersnatch_mirrors_every_file_of_the_node_with_its_sha256(mirror, node_content):
    assert mirrored_files(mirror.web) == node_content.sha256s()


def test_bandersnatch_mirrors_files_at_their_content_addressed_paths(mirror, node_content):
    for name, sha256 in node_content.sha256s().items():
        path = mirror.web / "packages" / sha256[:2] / sha256[2:4] / sha256[4:] / name
        assert path.is_file(), name


def test_bandersnatch_writes_simple_and_json_pages_for_every_project(mirror, node_content):
    for name in {canonicalize_name(project_name(f)) for f in node_content.files}:
        assert (mirror.web / "simple" / name / "index.html").is_file(), name
        assert (mirror.web / "json" / name).is_file(), name


def test_bandersnatch_records_the_node_serial_as_its_status(mirror, index_server):
    status = (mirror.web.parent / "status").read_text().strip()
    assert int(status) == node_serial(index_server.url)


@pytest.mark.parametrize("mirror", ["bandersnatch8"], indirect=True)  # 6.x fetches no metadata
def test_bandersnatch8_mirrors_the_core_metadata_of_every_wheel(mirror, node_content):
    for name, path in node_content.files.items():
        if not name.endswith(".whl"):
            continue
        (copy,) = (mirror.web / "packages").rglob(f"{name}.metadata")
        assert copy.read_bytes() == wheel_metadata(path), name


def test_bandersnatch_second_run_fetches_nothing_from_an_unchanged_node(mirror, index_server):
    status_before = (mirror.web.parent / "status").read_text()
    mark = index_server.log_mark()

    again = clients.bandersnatch_mirror(mirror.venv, config=mirror.config)

    assert again.returncode == 0, again.stdout + again.stderr
    fetched = [
        r.target
        for r in index_server.requests_since(mark)
        if r.path.startswith("/packages/") or r.path.endswith("/json")
    ]
    assert fetched == []
    assert (mirror.web.parent / "status").read_text() == status_before


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_bandersnatch_next_run_fetches_exactly_what_changed_on_the_node(tool, tmp_path):
    """Serials move with each change, so the next run syncs the changed projects alone, with
    no stale page in between, whether read from the JSON root (8.x) or the changelog (6.x)."""
    make_venv, extra = TOOLS[tool]
    first, added = tmp_path / "first", tmp_path / "added"
    first.mkdir()
    added.mkdir()
    build_chain(first, prefix="steady", sdists=False)
    build_wheel(DistSpec(name="steady-0", version="2.0"), added)
    build_wheel(DistSpec(name="newcomer", version="1.0"), added)
    config = tmp_path / "bandersnatch.conf"
    with live_server(dists=[first]) as server:
        config.write_text(
            clients.bandersnatch_config(
                master=server.url, directory=tmp_path / "mirror", extra=extra
            )
        )
        assert clients.bandersnatch_mirror(make_venv(), config=config).returncode == 0
        server.manage("import_dists", str(added))
        mark = server.log_mark()

        again = clients.bandersnatch_mirror(make_venv(), config=config)

        assert again.returncode == 0, again.stdout + again.stderr
        assert "Stale serial" not in again.stdout + again.stderr
        requests = server.requests_since(mark)
        synced = sorted(r.path for r in requests if r.path.endswith("/json"))
        assert synced == ["/pypi/newcomer/json", "/pypi/steady-0/json"]
        web = tmp_path / "mirror" / "web"
        expected = {p.name: file_sha256(p) for p in [*first.iterdir(), *added.iterdir()]}
        assert mirrored_files(web) == expected
        assert int((web.parent / "status").read_text()) == node_serial(server.url)
