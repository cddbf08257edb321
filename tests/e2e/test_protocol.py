"""The simple index as clients read it from a live node: formats agree, names resolve."""

import hashlib

import httpx
import pytest
from packaging.utils import canonicalize_name

from tests.support.dists import file_sha256, wheel_metadata

from .conftest import YANK_REASON
from .pages import HTML_V1, JSON_V1, html_files, json_files, parse_html

pytestmark = pytest.mark.e2e


def get(server, path: str, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return httpx.get(server.url + path, headers=headers, timeout=10)


def project_names(server) -> list[str]:
    root = get(server, "/simple/", JSON_V1)
    assert root.status_code == 200
    return sorted(project["name"] for project in root.json()["projects"])


def project_pages(server, name: str) -> tuple[httpx.Response, httpx.Response]:
    """The project page as JSON and as HTML, by the normalized URL."""
    path = f"/simple/{canonicalize_name(name)}/"
    return get(server, path, JSON_V1), get(server, path, HTML_V1)


def test_json_and_html_root_pages_list_the_same_projects(index_server, node_content):
    as_json = get(index_server, "/simple/", JSON_V1)
    as_html = get(index_server, "/simple/", HTML_V1)

    assert as_json.headers["content-type"].startswith(JSON_V1)
    assert as_html.headers["content-type"].startswith(HTML_V1)
    html_names = sorted(label for _attrs, label in parse_html(as_html.text).anchors)
    assert html_names == project_names(index_server)
    assert len(html_names) == len({f.split("-")[0] for f in node_content.files})


def test_json_and_html_project_pages_agree_file_for_file(index_server, node_content):
    for name in project_names(index_server):
        as_json, as_html = project_pages(index_server, name)
        assert as_json.status_code == as_html.status_code == 200
        from_json = json_files(as_json.json(), str(as_json.url))
        assert from_json == html_files(as_html.text, str(as_html.url)), name
        assert from_json, name


def test_project_pages_list_each_file_with_its_sha256_and_metadata_hash(index_server, node_content):
    listed = {}
    for name in project_names(index_server):
        as_json, _ = project_pages(index_server, name)
        listed.update({e.filename: e for e in json_files(as_json.json(), str(as_json.url))})

    assert sorted(listed) == sorted(node_content.files)
    for filename, path in node_content.files.items():
        entry = listed[filename]
        assert dict(entry.hashes)["sha256"] == file_sha256(path)
        if filename.endswith(".whl"):
            expected = hashlib.sha256(wheel_metadata(path)).hexdigest()
            assert entry.core_metadata == (("sha256", expected),), filename
        else:
            assert entry.core_metadata is None, filename


def test_yanked_release_and_requires_python_are_listed_in_both_formats(index_server):
    as_json, as_html = project_pages(index_server, "odd-name-project")
    for entries in (
        json_files(as_json.json(), str(as_json.url)),
        html_files(as_html.text, str(as_html.url)),
    ):
        assert len(entries) == 4
        for entry in entries:
            version = entry.filename.split("-")[1].removesuffix(".tar.gz")
            assert entry.requires_python == ">=3.8,<4", entry.filename
            assert entry.yanked == (YANK_REASON if version == "1.0" else None), entry.filename


def test_every_listed_file_and_metadata_file_downloads_with_its_listed_hash(index_server):
    for name in project_names(index_server):
        as_json, _ = project_pages(index_server, name)
        for entry in json_files(as_json.json(), str(as_json.url)):
            body = httpx.get(entry.url, timeout=30)
            assert body.status_code == 200, entry.url
            assert hashlib.sha256(body.content).hexdigest() == dict(entry.hashes)["sha256"]
            if entry.core_metadata:
                metadata = httpx.get(entry.url + ".metadata", timeout=30)
                assert metadata.status_code == 200, entry.url
                digest = hashlib.sha256(metadata.content).hexdigest()
                assert digest == dict(entry.core_metadata)["sha256"]


@pytest.mark.parametrize("spelling", ["Odd.Name_Project", "ODD-NAME-PROJECT", "odd_name.project"])
def test_non_normalized_project_name_redirects_permanently_to_the_normalized_url(
    index_server, spelling
):
    response = get(index_server, f"/simple/{spelling}/", JSON_V1)

    assert response.status_code == 301
    assert response.headers["location"].endswith("/simple/odd-name-project/")


@pytest.mark.parametrize("accept", [JSON_V1, HTML_V1])
def test_unknown_project_page_is_not_found(index_server, accept):
    assert get(index_server, "/simple/no-such-project/", accept).status_code == 404


def test_unknown_project_json_api_is_not_found(index_server):
    assert get(index_server, "/pypi/no-such-project/json").status_code == 404


def test_project_pages_carry_the_serial_of_their_root_entry_in_both_formats(index_server):
    root = get(index_server, "/simple/", JSON_V1).json()
    assert root["meta"]["api-version"].split(".")[0] == "1"
    for project in root["projects"]:
        as_json, as_html = project_pages(index_server, project["name"])
        serial = project["_last-serial"]
        assert as_json.json()["meta"]["_last-serial"] == serial
        assert int(as_json.headers["X-PyPI-Last-Serial"]) == serial
        assert int(as_html.headers["X-PyPI-Last-Serial"]) == serial
        version = parse_html(as_html.text).meta.get("pypi:repository-version", "")
        assert version.startswith("1."), project["name"]
