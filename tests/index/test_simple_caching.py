"""The simple index's serials, caching and conditional requests (ETag, 304, Vary)."""

import pytest
from django.core.cache import cache

from apps.catalog.models import JournalEntry, Project
from apps.index.selectors import project_refs_forget
from tests.support.dists import DistSpec

from .simple_support import HTML, JSON, Anchors, get, json_files, yank

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


# Serials


def test_project_serial_is_in_header_and_json_meta(client, publish):
    publish(DistSpec("foo", "1.0"))
    serial = Project.objects.get(normalized_name="foo").last_serial
    response = get(client, "/simple/foo/", JSON)
    assert response["X-PyPI-Last-Serial"] == str(serial)
    assert response.json()["meta"]["_last-serial"] == serial
    assert get(client, "/simple/foo/", "text/html")["X-PyPI-Last-Serial"] == str(serial)


def test_root_lists_display_names_with_their_serials(client, publish):
    publish(DistSpec("Foo.Bar", "1.0"), DistSpec("baz", "1.0"))
    response = get(client, "/simple/", JSON)
    last = JournalEntry.objects.latest("id").id
    assert response["X-PyPI-Last-Serial"] == str(last)
    document = response.json()
    assert document["meta"] == {"api-version": "1.4", "_last-serial": last}
    serials = dict(Project.objects.values_list("name", "last_serial"))
    assert document["projects"] == [
        {"name": "baz", "_last-serial": serials["baz"]},
        {"name": "Foo.Bar", "_last-serial": serials["Foo.Bar"]},
    ]


def test_root_html_links_each_project_by_normalized_name(client, publish):
    publish(DistSpec("Foo.Bar", "1.0"))
    anchors = Anchors(get(client, "/simple/", "text/html").content).anchors
    assert anchors == [({"href": "foo-bar/"}, "Foo.Bar")]


def test_root_shows_a_project_published_after_it_was_cached(client, publish):
    publish(DistSpec("foo", "1.0"))
    assert len(get(client, "/simple/", JSON).json()["projects"]) == 1
    publish(DistSpec("bar", "1.0"))
    assert len(get(client, "/simple/", JSON).json()["projects"]) == 2


def test_cached_page_shows_a_later_yank(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    assert next(iter(json_files(client).values()))["yanked"] is False
    yank("foo", "1.0", "bad")
    assert next(iter(json_files(client).values()))["yanked"] == "bad"


# Caching and conditional requests


def test_if_none_match_gets_304_from_the_serial_alone(client, publish, django_assert_num_queries):
    publish(DistSpec("foo", "1.0"))
    first = get(client, "/simple/foo/", JSON)
    with django_assert_num_queries(0):  # the serial, kept since the first request
        again = get(client, "/simple/foo/", JSON, If_None_Match=first["ETag"])
    project_refs_forget()
    with django_assert_num_queries(1):  # or read again
        assert get(client, "/simple/foo/", JSON, If_None_Match=first["ETag"]).status_code == 304
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["X-PyPI-Last-Serial"] == first["X-PyPI-Last-Serial"]
    assert "Accept" in again["Vary"]


def test_etag_differs_per_format(client, publish):
    publish(DistSpec("foo", "1.0"))
    etags = {get(client, "/simple/foo/", accept)["ETag"] for accept in (JSON, HTML, "text/html")}
    assert len(etags) == 3
    response = get(
        client, "/simple/foo/", "text/html", If_None_Match=get(client, "/simple/foo/", JSON)["ETag"]
    )
    assert response.status_code == 200


def test_a_change_turns_the_etag_over(client, publish):
    publish(DistSpec("foo", "1.0"))
    etag = get(client, "/simple/foo/", JSON)["ETag"]
    publish(DistSpec("foo", "2.0"))
    response = get(client, "/simple/foo/", JSON, If_None_Match=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "2.0" in response.json()["versions"]


def test_gzipped_answer_revalidates_with_its_weak_etag(client, publish):
    publish(*(DistSpec("foo", f"1.{i}") for i in range(5)))
    first = get(client, "/simple/foo/", JSON, Accept_Encoding="gzip")
    assert first["Content-Encoding"] == "gzip"
    assert first["ETag"].startswith('W/"')
    again = get(client, "/simple/foo/", JSON, Accept_Encoding="gzip", If_None_Match=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_root_answers_304_for_the_same_global_serial(client, publish):
    publish(DistSpec("foo", "1.0"))
    etag = get(client, "/simple/", JSON)["ETag"]
    assert get(client, "/simple/", JSON, If_None_Match=etag).status_code == 304
    publish(DistSpec("bar", "1.0"))
    assert get(client, "/simple/", JSON, If_None_Match=etag).status_code == 200


def test_project_page_costs_two_queries_then_none_until_the_catalog_changes(
    client, publish, django_assert_num_queries
):
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0"))
    with django_assert_num_queries(2):
        assert get(client, "/simple/foo/", JSON).status_code == 200
    with django_assert_num_queries(0):
        assert get(client, "/simple/foo/", JSON).status_code == 200
    publish(DistSpec("bar", "1.0"))  # any change: the serial is read again, the body kept
    with django_assert_num_queries(1):
        assert get(client, "/simple/foo/", JSON).status_code == 200


def test_pages_are_publicly_cacheable_for_a_configurable_time(client, publish, settings):
    publish(DistSpec("foo", "1.0"))
    assert get(client, "/simple/foo/", JSON)["Cache-Control"] == "public, max-age=60"
    settings.PYPIMIRROR_SIMPLE_MAX_AGE = 5
    assert get(client, "/simple/", JSON)["Cache-Control"] == "public, max-age=5"


@pytest.mark.parametrize(
    ("url", "accept", "status"),
    [
        ("/simple/foo/", JSON, 200),
        ("/simple/", "text/html", 200),
        ("/simple/Foo/", JSON, 301),
        ("/simple/missing/", JSON, 404),
        ("/simple/foo/", "image/png", 406),
    ],
)
def test_every_index_answer_varies_on_accept(client, publish, url, accept, status):
    publish(DistSpec("foo", "1.0"))
    response = get(client, url, accept)
    assert response.status_code == status
    assert "Accept" in [v.strip() for v in response["Vary"].split(",")]


PAGE_HEADERS = ("ETag", "Content-Type", "Cache-Control", "X-PyPI-Last-Serial")


def streamed(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("url", ["/simple/foo/", "/simple/"])
@pytest.mark.parametrize("accept", [JSON, HTML, "text/html"])
def test_head_gets_the_headers_of_get_without_rendering(
    client, publish, django_assert_num_queries, url, accept
):
    publish(DistSpec("foo", "1.0"))
    cache.clear()
    with django_assert_num_queries(1):  # the serial; the page's rows are never read
        head = client.head(url, headers={"Accept": accept, "Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert streamed(head) == b""
    assert "Content-Length" not in head  # nothing rendered, so not known
    assert "Content-Encoding" not in head
    assert {"Accept", "Accept-Encoding"} <= {v.strip() for v in head["Vary"].split(",")}

    got = get(client, url, accept)
    assert {h: head[h] for h in PAGE_HEADERS} == {h: got[h] for h in PAGE_HEADERS}


def test_head_of_a_cached_page_gives_its_length(client, publish):
    publish(DistSpec("foo", "1.0"))
    got = get(client, "/simple/foo/", JSON)
    head = client.head("/simple/foo/", headers={"Accept": JSON})
    assert head["Content-Length"] == str(len(got.content))
    assert head["ETag"] == got["ETag"]


def test_head_with_a_matching_etag_gets_304(client, publish):
    publish(DistSpec("foo", "1.0"))
    etag = client.head("/simple/foo/", headers={"Accept": JSON})["ETag"]
    response = client.head("/simple/foo/", headers={"Accept": JSON, "If-None-Match": etag})
    assert response.status_code == 304


def test_head_of_an_unknown_project_is_404(client):
    assert client.head("/simple/missing/", headers={"Accept": JSON}).status_code == 404


def test_other_methods_are_not_allowed(client):
    for method in (client.post, client.options, client.delete):
        response = method("/simple/", headers={"Accept": JSON})
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
