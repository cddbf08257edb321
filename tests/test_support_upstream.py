"""The test upstream answers as Warehouse does, changes state between syncs, and misbehaves on
demand; the nginx variant serves the same bytes and serial headers."""

import hashlib
import io
import json
import subprocess
import sys
import time
import xmlrpc.client
import zipfile

import httpx
import pytest

from tests.support.clients import isolated_env
from tests.support.upstream import (
    Fault,
    NginxUpstream,
    UpstreamServer,
    WarehouseUpstream,
    find_nginx,
    negotiate,
)

JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = f"{JSON}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.fixture
def upstream(tmp_path):
    upstream = WarehouseUpstream(tmp_path / "upstream")
    upstream.add_release("Alpha.Pkg", "1.0", requires=["beta>=1"], requires_python=">=3.8")
    upstream.add_release("Alpha.Pkg", "2.0", wheel=False, sdist=False)
    upstream.add_release("beta", "1.0")
    upstream.add_release("beta", "1.1", yanked="broken build")
    upstream.add_raw_file(
        "old", "2004d", "old-2004d.tar.bz2", b"BZh9 legacy", requires_python=">= '2.7'"
    )
    upstream.add_raw_file(
        "old", "2004d", "old-2004d.win32.exe", b"MZ...", packagetype="bdist_wininst"
    )
    return upstream


@pytest.fixture
def server(upstream):
    with UpstreamServer(upstream) as server:
        yield server


@pytest.fixture
def http():
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def test_negotiation_follows_warehouse():
    assert negotiate(PIP_ACCEPT) == JSON
    assert negotiate("text/html; q=0.5, application/vnd.pypi.simple.v1+json; q=0.9") == JSON
    assert negotiate(f"{JSON}; q=0, */*") == "text/html"
    assert negotiate("application/json") == "text/html"  # Warehouse never answers 406
    assert negotiate(None) == "text/html"


def test_json_root_lists_projects_with_serials(server, upstream, http):
    response = http.get(server.index_url, headers={"Accept": JSON})
    assert response.headers["content-type"] == JSON
    assert response.headers["x-pypi-last-serial"] == str(upstream.serial)
    assert response.headers["vary"] == "Accept"
    root = response.json()
    assert root["meta"]["_last-serial"] == upstream.serial
    assert root["projects"] == [
        {"name": "Alpha.Pkg", "_last-serial": upstream.project("alpha-pkg").last_serial},
        {"name": "beta", "_last-serial": upstream.project("beta").last_serial},
        {"name": "old", "_last-serial": upstream.project("old").last_serial},
    ]


def test_html_root_is_the_default(server, http):
    response = http.get(server.index_url)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="/simple/alpha-pkg/">Alpha.Pkg</a>' in response.text


def test_project_page_json_has_warehouse_fields(server, upstream, http):
    response = http.get(f"{server.url}/simple/beta/", headers={"Accept": PIP_ACCEPT})
    page = response.json()
    assert response.headers["x-pypi-last-serial"] == str(upstream.project("beta").last_serial)
    assert page["meta"] == {
        "api-version": "1.4",
        "_last-serial": upstream.project("beta").last_serial,
    }
    assert page["versions"] == ["1.0", "1.1"]
    wheel = next(f for f in page["files"] if f["filename"] == "beta-1.1-py3-none-any.whl")
    assert wheel["yanked"] == "broken build"
    assert wheel["core-metadata"] == {"sha256": wheel["core-metadata"]["sha256"]}
    assert "dist-info-metadata" not in wheel
    assert wheel["upload-time"].endswith("Z") and wheel["size"] > 0
    body = http.get(wheel["url"]).content
    assert hashlib.sha256(body).hexdigest() == wheel["hashes"]["sha256"]
    assert len(body) == wheel["size"]


def test_project_page_html_has_pep503_attributes(server, http):
    text = http.get(f"{server.url}/simple/alpha-pkg/").text
    assert '<meta name="pypi:repository-version" content="1.4">' in text
    assert 'data-requires-python="&gt;=3.8"' in text
    assert 'data-core-metadata="sha256=' in text and "data-dist-info-metadata=" in text
    assert "#sha256=" in text
    old = http.get(f"{server.url}/simple/old/").text
    assert 'data-requires-python="&gt;= &#x27;2.7&#x27;"' in old


def test_json_api_lists_all_releases_and_real_metadata(server, upstream, http):
    response = http.get(f"{server.url}/pypi/alpha-pkg/json")
    data = response.json()
    assert response.headers["x-pypi-last-serial"] == str(data["last_serial"])
    assert data["info"]["version"] == "2.0"  # the newest release, though it has no files
    assert data["releases"]["2.0"] == [] and data["urls"] == []
    wheel = next(f for f in data["releases"]["1.0"] if f["packagetype"] == "bdist_wheel")
    assert set(wheel["digests"]) == {"md5", "sha256", "blake2b_256"}
    assert wheel["python_version"] == "py3" and wheel["requires_python"] == ">=3.8"
    metadata = http.get(wheel["url"] + ".metadata").content
    assert hashlib.sha256(metadata).hexdigest() == wheel["core-metadata"]["sha256"]
    with zipfile.ZipFile(io.BytesIO(http.get(wheel["url"]).content)) as archive:
        assert archive.read("alpha_pkg-1.0.dist-info/METADATA") == metadata


def test_odd_files_keep_their_odd_fields(server, http):
    data = http.get(f"{server.url}/pypi/old/json").json()
    files = {f["filename"]: f for f in data["releases"]["2004d"]}
    assert files["old-2004d.win32.exe"]["packagetype"] == "bdist_wininst"
    assert files["old-2004d.tar.bz2"]["requires_python"] == ">= '2.7'"


def test_non_normalized_names_redirect(server, http):
    assert http.get(f"{server.url}/simple/Alpha.Pkg/").headers["location"] == "/simple/alpha-pkg/"
    assert http.get(f"{server.url}/simple/beta").headers["location"] == "/simple/beta/"
    assert (
        http.get(f"{server.url}/pypi/Alpha_Pkg/json").headers["location"] == "/pypi/alpha-pkg/json"
    )


def test_changes_take_serials_and_a_deleted_project_is_gone(server, upstream, http):
    before = upstream.serial
    wheel_url = http.get(f"{server.url}/pypi/beta/json").json()["urls"][0]["url"]
    upstream.yank("alpha-pkg", "1.0", "")
    upstream.remove_file("old-2004d.win32.exe")
    upstream.delete_project("beta")
    assert upstream.serial == before + 3
    assert (
        http.get(server.index_url, headers={"Accept": JSON}).json()["meta"]["_last-serial"]
        == before
    )
    upstream.write()
    root = http.get(server.index_url, headers={"Accept": JSON}).json()
    assert [p["name"] for p in root["projects"]] == ["Alpha.Pkg", "old"]
    for url in (f"{server.url}/simple/beta/", f"{server.url}/pypi/beta/json", wheel_url):
        assert http.get(url).status_code == 404
    alpha = http.get(f"{server.url}/pypi/alpha-pkg/json").json()
    assert alpha["releases"]["1.0"][0]["yanked"] is True
    assert [e.action for e in upstream.journal[-3:]] == [
        "yank release",
        "remove file old-2004d.win32.exe",
        "remove project",
    ]


def test_unchanged_pages_answer_304(server, upstream, http):
    url = f"{server.url}/simple/beta/"
    first = http.get(url)
    assert http.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    since = {"If-Modified-Since": first.headers["last-modified"]}
    assert http.get(url, headers=since).status_code == 304
    upstream.yank("beta", "1.0")
    upstream.write()
    changed = http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


def test_xmlrpc_changelog(server, upstream):
    proxy = xmlrpc.client.ServerProxy(f"{server.url}/pypi", allow_none=True)
    assert proxy.changelog_last_serial() == upstream.serial
    assert proxy.list_packages_with_serial()["beta"] == upstream.project("beta").last_serial
    upstream.delete_project("old")
    upstream.write()
    name, version, _, action, serial = proxy.changelog_since_serial(upstream.serial - 1)[0]
    assert (name, version, action, serial) == ("old", None, "remove project", upstream.serial)


def test_request_log_tells_which_projects_were_requested(server, http):
    http.get(f"{server.url}/pypi/beta/json")
    http.get(f"{server.url}/simple/old/")
    http.get(server.index_url)
    assert server.requested_projects() == {"beta", "old"}
    assert server.requests(kind="json")[0].status == 200
    server.clear_requests()
    assert server.requests() == []


def test_status_fault_for_the_first_requests_only(server, http):
    server.add_fault(Fault(status=503, times=2), project="beta")
    url = f"{server.url}/pypi/beta/json"
    assert [http.get(url).status_code for _ in range(3)] == [503, 503, 200]


def test_delay_fault_times_out_a_client(server, http):
    server.add_fault(Fault(delay=2), path="/simple/")
    with pytest.raises(httpx.ReadTimeout):
        http.get(server.index_url, timeout=0.3)


def test_truncated_body_is_an_incomplete_response(server, http):
    server.add_fault(Fault(truncate=10), project="beta", kind="file")
    url = http.get(f"{server.url}/pypi/beta/json").json()["urls"][0]["url"]
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url)


def test_corrupt_and_oversize_files(server, http):
    listed = http.get(f"{server.url}/pypi/beta/json").json()["urls"][0]
    server.add_fault(Fault(corrupt=True, times=1), kind="file")
    corrupt = http.get(listed["url"]).content
    assert len(corrupt) == listed["size"]
    assert hashlib.sha256(corrupt).hexdigest() != listed["digests"]["sha256"]
    server.add_fault(Fault(oversize=4096), kind="file")
    assert len(http.get(listed["url"]).content) == listed["size"] + 4096


def test_malformed_json_is_a_clean_answer_that_does_not_parse(server, http):
    server.add_fault(Fault(malformed_json=True), project="beta", kind="json")
    response = http.get(f"{server.url}/pypi/beta/json")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_stale_fault_serves_the_page_before_the_last_write(server, upstream, http):
    old_serial = upstream.project("beta").last_serial
    upstream.unyank("beta", "1.1")
    upstream.write()
    server.add_fault(Fault(stale=True, times=1), project="beta", kind="json")
    stale = http.get(f"{server.url}/pypi/beta/json")
    assert stale.headers["x-pypi-last-serial"] == str(old_serial)
    assert stale.json()["last_serial"] == old_serial
    assert http.get(f"{server.url}/pypi/beta/json").json()["last_serial"] == upstream.serial


def test_evil_filename_is_listed_on_project_pages(server, http):
    server.add_fault(Fault(evil_filename="../../evil.whl"), project="beta")
    data = http.get(f"{server.url}/pypi/beta/json").json()
    assert "../../evil.whl" in [f["filename"] for f in data["urls"]]
    page = http.get(f"{server.url}/simple/beta/", headers={"Accept": JSON}).json()
    assert page["files"][-1]["filename"] == "../../evil.whl"
    html = http.get(
        f"{server.url}/simple/beta/", headers={"Accept": "application/vnd.pypi.simple.v1+html"}
    )
    assert ">../../evil.whl</a>" in html.text
    server.clear_faults()
    assert "../../evil.whl" not in http.get(f"{server.url}/simple/beta/").text


def test_reset_fault_drops_the_connection(server, http):
    server.add_fault(Fault(reset=True), path="/simple/")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.get(server.index_url)
    assert server.requests(kind="root")[-1].status == 0


def test_pip_installs_from_the_upstream(server, tmp_path):
    command = [
        *(sys.executable, "-m", "pip", "--isolated", "install", "--no-cache-dir"),
        *("--only-binary", ":all:", "--target", tmp_path / "target"),
        *("--index-url", server.index_url, "alpha.pkg==1.0"),
    ]
    subprocess.run(command, env=isolated_env(), check=True, capture_output=True, timeout=120)
    assert (tmp_path / "target" / "alpha_pkg" / "__init__.py").exists()
    assert (tmp_path / "target" / "beta" / "__init__.py").exists()  # 1.1 is yanked: 1.0


@pytest.fixture
def nginx(upstream):
    if find_nginx() is None:
        pytest.skip("nginx is not installed and apt-get cannot install it here")
    with NginxUpstream(upstream) as nginx:
        yield nginx


def test_nginx_serves_the_same_bytes_and_headers(nginx, upstream, http):
    with UpstreamServer(upstream) as server:  # the same tree, same base URL
        file_url = http.get(f"{nginx.url}/pypi/beta/json").json()["urls"][0]["url"]
        file_path = file_url.removeprefix(nginx.url)
        for path, accept in [
            ("/simple/", JSON),
            ("/simple/", "text/html"),
            ("/simple/beta/", PIP_ACCEPT),
            ("/simple/beta/", "text/html"),
            ("/pypi/beta/json", "*/*"),
            (file_path, "*/*"),
            (file_path + ".metadata", "*/*"),
        ]:
            ours = http.get(server.url + path, headers={"Accept": accept})
            theirs = http.get(nginx.url + path, headers={"Accept": accept})
            assert (theirs.status_code, theirs.content) == (200, ours.content), path
            for header in ("content-type", "etag", "last-modified", "x-pypi-last-serial", "vary"):
                assert theirs.headers.get(header) == ours.headers.get(header), (path, header)


def test_nginx_publish_serves_the_new_serials(nginx, upstream, http):
    upstream.add_release("beta", "2.0")
    upstream.delete_project("old")
    nginx.publish()
    page = http.get(f"{nginx.url}/pypi/beta/json")
    assert page.headers["x-pypi-last-serial"] == str(upstream.project("beta").last_serial)
    assert http.get(nginx.index_url).headers["x-pypi-last-serial"] == str(upstream.serial)
    assert http.get(f"{nginx.url}/pypi/old/json").status_code == 404


def test_nginx_paces_files_but_not_pages_once_published_with_a_rate(nginx, upstream, http):
    files = [f"{nginx.url}/packages/{f.path}" for _r, f in upstream.project("beta").files()]
    nginx.files_per_minute = 120  # one every 0.5 s, the first at once
    nginx.publish()
    started = time.monotonic()
    for url in files * 2:
        assert http.get(url).status_code == 200
    paced = time.monotonic() - started
    started = time.monotonic()
    for _ in files * 2:
        assert http.get(f"{nginx.url}/simple/beta/").status_code == 200
    assert paced >= 0.5 * (len(files) * 2 - 1) - 0.1
    assert time.monotonic() - started < 0.5


def test_upstream_serves_pep_740_provenance_and_pep_792_statuses(tmp_path, http):
    upstream = WarehouseUpstream(tmp_path / "statuses")
    upstream.add_release("signed", "1.0", provenance=True)
    for name in ("archived-one", "hidden", "old-style"):
        upstream.add_release(name, "1.0")
    serial = upstream.serial
    assert upstream.set_status("archived-one", "archived", journal=False) is None
    assert upstream.serial == serial  # as PyPI archives: no journal entry
    assert upstream.set_status("hidden", "quarantined") == serial + 1
    upstream.set_status("old-style", "deprecated", "use signed")
    with UpstreamServer(upstream) as server:
        page = http.get(f"{server.url}/simple/signed/", headers={"Accept": JSON}).json()
        assert page["meta"]["api-version"] == "1.4"
        documents = {f.filename: f.provenance for _r, f in upstream.project("signed").files()}
        for entry in page["files"]:
            url = entry["provenance"]
            assert url == f"{server.url}/integrity/signed/1.0/{entry['filename']}/provenance"
            got = http.get(url, headers={"Accept": "application/vnd.pypi.integrity.v1+json"})
            assert got.headers["Content-Type"] == "application/vnd.pypi.integrity.v1+json"
            assert got.content == documents[entry["filename"]]
            assert json.loads(got.content)["version"] == 1
        html = http.get(f"{server.url}/simple/signed/").text
        assert f'data-provenance="{url}"' in html

        hidden = http.get(f"{server.url}/simple/hidden/", headers={"Accept": JSON}).json()
        assert (hidden["project-status"], hidden["files"]) == ({"status": "quarantined"}, [])
        assert http.get(f"{server.url}/pypi/hidden/json").status_code == 404
        root = http.get(f"{server.url}/simple/", headers={"Accept": JSON}).json()
        assert "hidden" not in {p["name"] for p in root["projects"]}

        old = http.get(f"{server.url}/simple/old-style/").text
        assert '<meta name="pypi:project-status" content="deprecated">' in old
        assert '<meta name="pypi:project-status-reason" content="use signed">' in old
        archived = http.get(f"{server.url}/simple/archived-one/", headers={"Accept": JSON})
        assert archived.json()["project-status"] == {"status": "archived"}
        assert http.get(f"{server.url}/integrity/signed/1.0/nope.whl/provenance").status_code == 404
