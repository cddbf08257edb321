import hashlib
import zipfile

import pytest
from django.core.cache import cache
from django.db import transaction

from apps.catalog import services
from apps.catalog.blobstore import blob_put_file
from apps.catalog.models import JournalEntry, Project, Release
from apps.catalog.services import NewDistribution
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_render_cache():
    cache.clear()


def get_json(client, url, **headers):
    response = client.get(url, headers=headers)
    return response, (response.json() if response.status_code in (200, 404) else None)


def publish_legacy(tmp_path, name: str, version: str) -> None:
    """A file whose version PEP 440 rejects, published through the catalog's services."""
    path = tmp_path / f"{name}-{version}.tar.gz"
    path.write_bytes(f"legacy {name} {version}".encode())
    with path.open("rb") as source:
        verified = blob_put_file(source, filename=path.name)
    with transaction.atomic():
        project = services.project_lock(name=name, create=True)
        services.distribution_publish(
            project=project,
            new=NewDistribution(file=verified, version=version, packagetype="sdist"),
        )


def test_project_json_describes_the_latest_release_from_its_metadata(client, publish):
    publish(DistSpec("Foo", "1.0", requires=["bar>=1"], requires_python=">=3.8", summary="Foo!"))
    response, data = get_json(client, "/pypi/foo/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    info = data["info"]
    assert (info["name"], info["version"], info["summary"]) == ("Foo", "1.0", "Foo!")
    assert info["requires_dist"] == ["bar>=1"]
    assert info["requires_python"] == ">=3.8"
    assert info["author"] == "pypimirror tests"
    assert info["license"] == "MIT"
    assert info["classifiers"] == ["Programming Language :: Python :: 3"]
    assert info["description_content_type"] == "text/plain"
    assert info["description"].strip() == "Foo 1.0."
    assert info["maintainer"] is None
    assert info["home_page"] is None
    assert info["project_urls"] is None
    assert info["yanked"] is False and info["yanked_reason"] is None
    assert info["release_url"] == "http://testserver/pypi/foo/1.0/json"
    assert data["vulnerabilities"] == []
    assert sorted(f["filename"] for f in data["urls"]) == [
        "foo-1.0-py3-none-any.whl",
        "foo-1.0.tar.gz",
    ]


def test_serial_is_in_body_and_header_and_is_the_projects_newest(client, publish):
    publish(DistSpec("foo", "1.0"))
    response, data = get_json(client, "/pypi/foo/json")
    serial = Project.objects.get().last_serial
    assert serial == JournalEntry.objects.latest("id").id
    assert data["last_serial"] == serial
    assert response["X-PyPI-Last-Serial"] == str(serial)


def test_file_entries_carry_digests_urls_and_times_as_warehouse(client, publish):
    wheel, sdist = publish(DistSpec("foo", "1.0", requires_python=">=3.8"))
    _, data = get_json(client, "/pypi/foo/json")
    files = {f["filename"]: f for f in data["releases"]["1.0"]}
    entry = files[wheel.name]
    content = wheel.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    assert entry["digests"] == {
        "sha256": sha256,
        "md5": hashlib.md5(content).hexdigest(),
        "blake2b_256": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }
    assert entry["md5_digest"] == entry["digests"]["md5"]
    assert entry["url"] == (
        f"http://testserver/packages/{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}/{wheel.name}"
    )
    assert entry["size"] == len(content)
    assert (entry["packagetype"], entry["python_version"]) == ("bdist_wheel", "py3")
    assert entry["requires_python"] == ">=3.8"
    assert entry["has_sig"] is False and entry["downloads"] == -1
    assert entry["yanked"] is False and entry["yanked_reason"] is None
    assert len(entry["upload_time"]) == len("2024-01-01T00:00:00")
    assert entry["upload_time_iso_8601"].startswith(entry["upload_time"] + ".")
    assert entry["upload_time_iso_8601"].endswith("Z")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("foo-1.0.dist-info/METADATA")
    assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
    assert files[sdist.name]["core-metadata"] is False
    assert files[sdist.name]["packagetype"] == "sdist"
    assert "dist-info-metadata" not in entry and "data-dist-info-metadata" not in entry


def test_file_urls_use_the_configured_base_url(client, publish, settings):
    settings.PYPIMIRROR_BASE_URL = "https://mirror.example.org/pypi-node"
    publish(DistSpec("foo", "1.0"), sdist=False)
    _, data = get_json(client, "/pypi/foo/json")
    assert data["urls"][0]["url"].startswith("https://mirror.example.org/pypi-node/packages/")


def test_any_spelling_of_the_name_is_served_without_redirect(client, publish):
    publish(DistSpec("Foo.Bar", "1.0"), sdist=False)
    response, data = get_json(client, "/pypi/FOO__bar/json")
    assert response.status_code == 200
    assert data["info"]["name"] == "Foo.Bar"


def test_releases_list_every_version_including_those_without_files(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0"), sdist=False)
    Release.objects.create(project=Project.objects.get(), version="3.0")
    _, data = get_json(client, "/pypi/foo/json")
    assert set(data["releases"]) == {"1.0", "2.0", "3.0"}
    assert data["releases"]["3.0"] == []
    assert [f["filename"] for f in data["releases"]["2.0"]] == ["foo-2.0-py3-none-any.whl"]


def test_latest_is_by_pep440_order_not_upload_order(client, publish):
    publish(DistSpec("foo", "10.0"), DistSpec("foo", "9.0"), sdist=False)
    _, data = get_json(client, "/pypi/foo/json")
    assert data["info"]["version"] == "10.0"
    assert [f["filename"] for f in data["urls"]] == ["foo-10.0-py3-none-any.whl"]


def test_latest_prefers_a_final_release_over_a_newer_prerelease(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0b1"), sdist=False)
    _, data = get_json(client, "/pypi/foo/json")
    assert data["info"]["version"] == "1.0"


def test_latest_prefers_a_prerelease_over_a_yanked_final(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0b1"), sdist=False)
    services.release_set_yanked(release=Release.objects.get(version="1.0"), reason="broken")
    _, data = get_json(client, "/pypi/foo/json")
    assert data["info"]["version"] == "2.0b1"


def test_yanked_release_shows_its_reason_on_info_and_files(client, publish):
    publish(DistSpec("foo", "1.0"))
    services.release_set_yanked(release=Release.objects.get(), reason="broken")
    _, data = get_json(client, "/pypi/foo/1.0/json")
    assert (data["info"]["yanked"], data["info"]["yanked_reason"]) == (True, "broken")
    assert {(f["yanked"], f["yanked_reason"]) for f in data["urls"]} == {(True, "broken")}


def test_legacy_versions_do_not_break_the_project_page(client, publish, tmp_path):
    publish_legacy(tmp_path, "foo", "2004d")
    publish(DistSpec("foo", "1.0"), sdist=False)
    response, data = get_json(client, "/pypi/foo/json")
    assert response.status_code == 200
    assert data["info"]["version"] == "1.0"
    assert set(data["releases"]) == {"2004d", "1.0"}


def test_a_project_with_only_legacy_versions_shows_one(client, tmp_path):
    publish_legacy(tmp_path, "old", "2004d")
    response, data = get_json(client, "/pypi/old/json")
    assert response.status_code == 200
    assert data["info"]["version"] == "2004d"
    assert [f["filename"] for f in data["urls"]] == ["old-2004d.tar.gz"]


def test_version_url_shows_that_release_only(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0"))
    response, data = get_json(client, "/pypi/foo/1.0/json")
    assert response.status_code == 200
    assert data["info"]["version"] == "1.0"
    assert {f["filename"] for f in data["urls"]} == {"foo-1.0-py3-none-any.whl", "foo-1.0.tar.gz"}
    assert "releases" not in data
    assert response["X-PyPI-Last-Serial"] == str(Project.objects.get().last_serial)


def test_version_url_accepts_an_equivalent_spelling_of_the_version(client, publish):
    publish(DistSpec("foo", "1.0"), sdist=False)
    response, data = get_json(client, "/pypi/foo/1.0.0/json")
    assert response.status_code == 200
    assert data["info"]["version"] == "1.0"


def test_version_url_serves_a_legacy_version(client, tmp_path):
    publish_legacy(tmp_path, "old", "2004d")
    response, data = get_json(client, "/pypi/old/2004d/json")
    assert response.status_code == 200
    assert data["info"]["version"] == "2004d"


def test_unknown_version_is_404_json_with_the_serial(client, publish):
    publish(DistSpec("foo", "1.0"), sdist=False)
    response, data = get_json(client, "/pypi/foo/9.9/json")
    assert response.status_code == 404
    assert data == {"message": "Not Found"}
    assert response["X-PyPI-Last-Serial"] == str(Project.objects.get().last_serial)


def test_unknown_project_is_404_json(client):
    response, data = get_json(client, "/pypi/nothing-here/json")
    assert response.status_code == 404
    assert data == {"message": "Not Found"}
    assert "X-PyPI-Last-Serial" in response


def test_deleted_project_is_404(client, publish):
    publish(DistSpec("foo", "1.0"))
    assert client.get("/pypi/foo/json").status_code == 200
    services.project_remove(project=Project.objects.get())
    response, data = get_json(client, "/pypi/foo/json")
    assert data == {"message": "Not Found"}
    assert response.status_code == 404
    assert response["X-PyPI-Last-Serial"] == str(Project.objects.get().last_serial)


def test_blocked_project_is_404_on_both_urls(client, publish):
    publish(DistSpec("foo", "1.0"))
    services.project_set_blocked(project=Project.objects.get(), blocked=True)
    assert client.get("/pypi/foo/json").status_code == 404
    assert client.get("/pypi/foo/1.0/json").status_code == 404


def test_matching_etag_gets_304_with_the_serial(client, publish):
    publish(DistSpec("foo", "1.0"))
    first = client.get("/pypi/foo/json")
    again = client.get("/pypi/foo/json", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["X-PyPI-Last-Serial"] == first["X-PyPI-Last-Serial"]
    weak = client.get("/pypi/foo/json", headers={"If-None-Match": f"W/{first['ETag']}"})
    assert weak.status_code == 304


def test_a_new_file_changes_the_etag_and_the_body(client, publish):
    publish(DistSpec("foo", "1.0"), sdist=False)
    first = client.get("/pypi/foo/json")
    publish(DistSpec("foo", "2.0"), sdist=False)
    again = client.get("/pypi/foo/json", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.json()["info"]["version"] == "2.0"
    assert int(again["X-PyPI-Last-Serial"]) > int(first["X-PyPI-Last-Serial"])


def test_a_cached_page_costs_one_query(client, publish, django_assert_num_queries):
    publish(DistSpec("foo", "1.0"))
    first = client.get("/pypi/foo/json")
    with django_assert_num_queries(1):
        again = client.get("/pypi/foo/json")
    assert again.content == first.content


def test_if_none_match_gets_304_before_anything_is_rendered(
    client, publish, django_assert_num_queries
):
    publish(DistSpec("foo", "1.0"))
    etag = client.get("/pypi/foo/json")["ETag"]
    cache.clear()  # a rendering would now cost the release and file queries
    with django_assert_num_queries(1):
        again = client.get("/pypi/foo/json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert "Accept-Encoding" in again["Vary"]


@pytest.mark.parametrize("method", ["get", "head"])
def test_if_none_match_any_is_304_only_for_what_exists(client, publish, method):
    publish(DistSpec("foo", "1.0"))
    request = getattr(client, method)
    assert request("/pypi/foo/1.0/json", headers={"If-None-Match": "*"}).status_code == 304
    assert request("/pypi/foo/2.0/json", headers={"If-None-Match": "*"}).status_code == 404


HEAD_HEADERS = (
    "ETag",
    "Content-Type",
    "Cache-Control",
    "X-PyPI-Last-Serial",
    "Access-Control-Allow-Origin",
)


def streamed(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("url", ["/pypi/foo/json", "/pypi/foo/1.0/json"])
def test_head_gets_the_headers_of_get_without_rendering(
    client, publish, django_assert_num_queries, url
):
    publish(DistSpec("foo", "1.0"))
    with django_assert_num_queries(2):  # the project and its versions, not its files
        head = client.head(url)
    assert head.status_code == 200
    assert streamed(head) == b""
    assert "Content-Length" not in head
    got = client.get(url)
    assert {h: head[h] for h in HEAD_HEADERS} == {h: got[h] for h in HEAD_HEADERS}
    with django_assert_num_queries(1):  # rendered once: the length is known from the cache
        cached = client.head(url)
    assert cached["Content-Length"] == str(len(got.content))


@pytest.mark.parametrize("url", ["/pypi/foo/2.0/json", "/pypi/missing/json"])
def test_head_of_what_get_would_not_find_is_404(client, publish, url):
    publish(DistSpec("foo", "1.0"))
    assert client.get(url).status_code == 404
    cache.clear()
    assert client.head(url).status_code == 404


def test_json_api_refuses_post(client, publish):
    publish(DistSpec("foo", "1.0"), sdist=False)
    assert client.post("/pypi/foo/json").status_code == 405
