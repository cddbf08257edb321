"""Simple API 1.4 as served: PEP 792 status in both formats, PEP 740 provenance from this node."""

import hashlib
import json

import pytest
from django.db import transaction

from apps.catalog import services
from apps.catalog.blobstore import blob_put_file, provenance_put
from tests.support.dists import DistSpec, build_sdist, build_wheel

from .simple_support import HTML, JSON, Anchors, get, html_files, json_files

pytestmark = pytest.mark.django_db

DOCUMENT = json.dumps({"version": 1, "attestation_bundles": [{"publisher": {}}]}, indent=1)
PROVENANCE = DOCUMENT.encode()
PROVENANCE_URL = "http://testserver/integrity/foo/1.0/foo-1.0-py3-none-any.whl/provenance"


@pytest.fixture
def foo(tmp_path):
    """foo 1.0: a wheel with provenance and an sdist without."""
    spec = DistSpec("foo", "1.0")
    news = []
    for path, provenance in (
        (build_wheel(spec, tmp_path), PROVENANCE),
        (build_sdist(spec, tmp_path), None),
    ):
        with path.open("rb") as handle:
            verified = blob_put_file(handle, filename=path.name)
        news.append(
            services.NewDistribution(
                file=verified,
                version="1.0",
                packagetype="bdist_wheel" if path.suffix == ".whl" else "sdist",
                provenance_sha256=provenance_put(provenance) if provenance else None,
            )
        )
    with transaction.atomic():
        project = services.project_lock(name="foo", create=True)
        services.distributions_publish(project=project, new=news)


def set_status(status: str, reason: str = "") -> None:
    with transaction.atomic():
        services.project_set_index_status(
            project=services.project_lock(name="foo"), status=status, reason=reason
        )


def test_json_page_carries_1_4_status_and_provenance_urls_on_this_node(client, foo):
    document = get(client, "/simple/foo/", JSON).json()
    assert document["meta"]["api-version"] == "1.4"
    assert document["project-status"] == {"status": "active"}
    files = {f["filename"]: f for f in document["files"]}
    assert files["foo-1.0-py3-none-any.whl"]["provenance"] == PROVENANCE_URL
    assert files["foo-1.0.tar.gz"]["provenance"] is None


def test_html_page_carries_status_meta_and_data_provenance(client, foo):
    set_status("deprecated", 'use "bar" <now>')
    response = get(client, "/simple/foo/", HTML)
    meta = Anchors(response.content).meta
    assert meta["pypi:repository-version"] == "1.4"
    assert meta["pypi:project-status"] == "deprecated"
    assert meta["pypi:project-status-reason"] == 'use "bar" <now>'
    files = html_files(client)
    assert files["foo-1.0-py3-none-any.whl"]["data-provenance"] == PROVENANCE_URL
    assert "data-provenance" not in files["foo-1.0.tar.gz"]
    assert get(client, "/simple/foo/", JSON).json()["project-status"] == {
        "status": "deprecated",
        "reason": 'use "bar" <now>',
    }


@pytest.mark.parametrize("status", ["archived", "deprecated"])
def test_archived_and_deprecated_projects_still_offer_their_files(client, foo, status):
    set_status(status)
    assert set(json_files(client)) == {"foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"}
    assert get(client, "/simple/foo/", JSON).json()["project-status"] == {"status": status}


def test_a_quarantined_project_offers_no_files_in_any_format(client, foo):
    wheel_url = json_files(client)["foo-1.0-py3-none-any.whl"]["url"]
    set_status("quarantined")
    document = get(client, "/simple/foo/", JSON).json()
    assert (document["files"], document["versions"]) == ([], [])
    assert document["project-status"] == {"status": "quarantined"}
    html = get(client, "/simple/foo/", "text/html").content
    assert Anchors(html).anchors == []
    assert Anchors(html).meta["pypi:project-status"] == "quarantined"
    path = wheel_url.removeprefix("http://testserver")
    assert client.get(path).status_code == 404
    assert client.get(f"{path}.metadata").status_code == 404
    assert client.get(PROVENANCE_URL).status_code == 404
    assert client.get("/pypi/foo/json").status_code == 404
    # It stays listed with its serial, so nodes below learn the quarantine.
    assert [p["name"] for p in get(client, "/simple/", JSON).json()["projects"]] == ["foo"]


def test_lifting_a_quarantine_offers_the_files_again(client, foo):
    set_status("quarantined")
    set_status("active")
    assert len(json_files(client)) == 2


def test_provenance_is_served_byte_for_byte_with_its_type_and_etag(client, foo):
    response = client.get(PROVENANCE_URL)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PROVENANCE
    assert response["Content-Type"] == "application/vnd.pypi.integrity.v1+json"
    etag = f'"{hashlib.sha256(PROVENANCE).hexdigest()}"'
    assert response["ETag"] == etag
    assert client.get(PROVENANCE_URL, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/integrity/foo/1.0/foo-1.0.tar.gz/provenance",  # no provenance
        "/integrity/foo/2.0/foo-1.0-py3-none-any.whl/provenance",  # another version
        "/integrity/bar/1.0/foo-1.0-py3-none-any.whl/provenance",  # another project
        "/integrity/Foo/1.0/foo-1.0-py3-none-any.whl/provenance",  # not normalized
    ],
)
def test_no_provenance_where_none_is_stored(client, foo, path):
    assert client.get(path).status_code == 404


def test_a_status_change_is_a_new_serial_and_so_a_new_page(client, foo):
    before = get(client, "/simple/foo/", JSON)
    set_status("archived")
    after = get(client, "/simple/foo/", JSON)
    assert int(after["X-PyPI-Last-Serial"]) > int(before["X-PyPI-Last-Serial"])
    assert after["ETag"] != before["ETag"]
    assert after.json()["project-status"] == {"status": "archived"}
