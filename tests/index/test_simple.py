"""The simple index (/simple/, /simple/<name>/): formats, names and file attributes."""

import hashlib
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import transaction

from apps.catalog.models import Project, Release
from apps.catalog.services import (
    Action,
    journal_write,
    project_lock,
    project_remove,
    project_set_blocked,
)
from apps.index.selectors import ProjectRef, project_simple_ref
from tests.support.dists import DistSpec

from .simple_support import (
    HTML,
    ISO_UTC,
    JSON,
    PIP_ACCEPT,
    Anchors,
    change,
    get,
    html_files,
    json_files,
    wheel_metadata_sha256,
    yank,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


# The selector behind every request


def test_project_ref_is_the_active_project_row(publish):
    publish(DistSpec("Foo.Bar", "1.0"), DistSpec("gone", "1.0"), wheel=False)
    change("gone", project_remove)
    row = Project.objects.get(normalized_name="foo-bar")
    ref = project_simple_ref(normalized_name="foo-bar")
    assert ref == ProjectRef(row.id, "Foo.Bar", "foo-bar", row.last_serial)
    assert project_simple_ref(normalized_name="gone") is None
    assert project_simple_ref(normalized_name="Foo.Bar") is None


# Formats and negotiation


def test_html_and_json_list_the_same_files(client, publish):
    paths = publish(DistSpec("foo", "1.0", requires_python=">=3.8"), DistSpec("foo", "2.0"))
    html, data = html_files(client), json_files(client)
    assert set(html) == set(data) == {path.name for path in paths}
    for filename, attrs in html.items():
        url, _, fragment = attrs["href"].partition("#")
        entry = data[filename]
        assert url == entry["url"]
        assert fragment == f"sha256={entry['hashes']['sha256']}"
        assert attrs.get("data-requires-python") == entry["requires-python"]
        assert ("data-yanked" in attrs) is (entry["yanked"] is not False)
        expected_metadata = (
            f"sha256={entry['core-metadata']['sha256']}" if entry["core-metadata"] else None
        )
        assert attrs.get("data-core-metadata") == expected_metadata


def test_file_hashes_are_those_of_the_files(client, publish):
    paths = publish(DistSpec("foo", "1.0"))
    data = json_files(client)
    for path in paths:
        assert data[path.name]["hashes"] == {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()
        }
        assert data[path.name]["size"] == path.stat().st_size


def test_pip_accept_header_gets_json(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, "/simple/foo/", PIP_ACCEPT)
    assert response["Content-Type"] == JSON
    assert response.json()["name"] == "foo"


def test_json_weighed_lower_than_html_gets_html(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, "/simple/foo/", f"{JSON};q=0.1, {HTML}")
    assert response["Content-Type"] == f"{HTML}; charset=utf-8"
    assert response.content.startswith(b"<!DOCTYPE html>")


def test_no_accept_header_gets_text_html(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = client.get("/simple/foo/")
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_latest_alias_answers_with_the_v1_type(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, "/simple/foo/", "application/vnd.pypi.simple.latest+json")
    assert response["Content-Type"] == JSON


def test_nothing_acceptable_is_406_naming_the_offers(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, "/simple/foo/", "application/json")
    assert response.status_code == 406
    assert JSON.encode() in response.content and b"text/html" in response.content
    assert "Accept" in response["Vary"]


def test_format_query_overrides_accept(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, f"/simple/foo/?format={quote(JSON)}", "text/html")
    assert response["Content-Type"] == JSON
    assert response.json()["name"] == "foo"


def test_unknown_format_query_is_406(client, publish):
    publish(DistSpec("foo", "1.0"))
    response = get(client, "/simple/foo/?format=yaml", JSON)
    assert response.status_code == 406
    assert b"yaml" in response.content


def test_every_html_page_declares_the_repository_version(client, publish):
    publish(DistSpec("foo", "1.0"))
    for url in ("/simple/", "/simple/foo/"):
        meta = Anchors(get(client, url, "text/html").content).meta
        assert meta["pypi:repository-version"] == "1.4"


# Names


def test_non_normalized_name_redirects_permanently(client, publish):
    publish(DistSpec("Foo.Bar", "1.0"))
    response = get(client, "/simple/Foo.Bar/", JSON)
    assert response.status_code == 301
    assert response["Location"] == "/simple/foo-bar/"


def test_redirect_keeps_the_format_query(client, publish):
    publish(DistSpec("foo_bar", "1.0"))
    response = client.get(f"/simple/foo_bar/?format={quote(JSON)}")
    assert response.status_code == 301
    assert response["Location"] == f"/simple/foo-bar/?format={quote(JSON, safe='')}"
    assert client.get(response["Location"])["Content-Type"] == JSON


def test_unknown_project_is_404_in_the_negotiated_format(client):
    response = get(client, "/simple/nothing-here/", JSON)
    assert response.status_code == 404
    assert "nothing-here" in response.json()["detail"]


def test_deleted_project_is_404_and_leaves_the_root(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("bar", "1.0"))
    assert get(client, "/simple/foo/", JSON).status_code == 200
    change("foo", project_remove)
    assert get(client, "/simple/foo/", JSON).status_code == 404
    names = [p["name"] for p in get(client, "/simple/", JSON).json()["projects"]]
    assert names == ["bar"]


def test_blocked_project_is_404(client, publish):
    publish(DistSpec("foo", "1.0"))
    change("foo", project_set_blocked, blocked=True)
    assert get(client, "/simple/foo/", "text/html").status_code == 404


# PEP 592, 658/714, 700, 503 attributes


def test_yanked_release_shows_its_reason_in_both_formats(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    yank("foo", "1.0", "broken <build>")
    (attrs,) = html_files(client).values()
    (entry,) = json_files(client).values()
    assert attrs["data-yanked"] == "broken <build>"
    assert entry["yanked"] == "broken <build>"


def test_yank_without_reason_is_empty_attribute_and_true(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    yank("foo", "1.0", "")
    page = get(client, "/simple/foo/", "text/html").content
    assert b'data-yanked=""' in page
    (entry,) = json_files(client).values()
    assert entry["yanked"] is True


def test_unyanked_file_has_no_yank_marks(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    yank("foo", "1.0", "oops")
    yank("foo", "1.0", None)
    assert "data-yanked" not in next(iter(html_files(client).values()))
    assert next(iter(json_files(client).values()))["yanked"] is False


def test_requires_python_is_html_escaped(client, publish):
    publish(DistSpec("foo", "1.0", requires_python=">=3.8,<4"), wheel=False)
    page = get(client, "/simple/foo/", "text/html").content
    assert b'data-requires-python="&gt;=3.8,&lt;4"' in page
    assert next(iter(json_files(client).values()))["requires-python"] == ">=3.8,<4"


def test_wheel_has_core_metadata_in_both_html_attributes(client, publish):
    wheel, sdist = publish(DistSpec("foo", "1.0"))
    html = html_files(client)
    expected = f"sha256={wheel_metadata_sha256(wheel)}"
    assert html[wheel.name]["data-core-metadata"] == expected
    assert html[wheel.name]["data-dist-info-metadata"] == expected
    assert "data-core-metadata" not in html[sdist.name]
    assert "data-dist-info-metadata" not in html[sdist.name]


def test_json_has_core_metadata_and_never_the_old_key(client, publish):
    wheel, sdist = publish(DistSpec("foo", "1.0"))
    data = json_files(client)
    assert data[wheel.name]["core-metadata"] == {"sha256": wheel_metadata_sha256(wheel)}
    assert data[sdist.name]["core-metadata"] is False
    assert b"dist-info-metadata" not in get(client, "/simple/foo/", JSON).content


def test_json_project_page_has_pep_700_fields(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "1.10"), DistSpec("foo", "1.2"))
    document = get(client, "/simple/foo/", JSON).json()
    assert document["meta"]["api-version"] == "1.4"
    assert document["versions"] == ["1.0", "1.2", "1.10"]
    for entry in document["files"]:
        assert isinstance(entry["size"], int) and entry["size"] > 0
        assert ISO_UTC.match(entry["upload-time"]), entry["upload-time"]


def test_versions_include_a_release_without_files(client, publish):
    publish(DistSpec("foo", "1.0"))
    # No service makes an empty release (replication will, for upstream releases without
    # files); written here as a replicating writer would: row and journal entry together.
    with transaction.atomic():
        project = project_lock(name="foo")
        Release.objects.create(project=project, version="0.9")
        journal_write(project=project, action=Action.NEW_RELEASE, version="0.9")
    assert get(client, "/simple/foo/", JSON).json()["versions"] == ["0.9", "1.0"]


def test_file_urls_are_under_packages_and_the_base_url(client, publish, settings):
    settings.PYPIMIRROR_BASE_URL = "https://mirror.example/pypi"
    publish(DistSpec("foo", "1.0"))
    for entry in json_files(client).values():
        assert entry["url"].startswith("https://mirror.example/pypi/packages/")
    for attrs in html_files(client).values():
        assert attrs["href"].startswith("https://mirror.example/pypi/packages/")


def test_file_urls_default_to_the_requests_host(client, publish):
    publish(DistSpec("foo", "1.0"))
    for entry in json_files(client).values():
        assert entry["url"].startswith("http://testserver/packages/")
