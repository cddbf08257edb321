"""Change lists for tables of millions of rows (pypimirror/admin_lists.py), on the journal and
the files: counts capped or estimated, sorting by indexed columns only, no facet counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.catalog.admin import JournalEntryAdmin
from apps.catalog.models import Distribution, JournalEntry, Project, Release
from pypimirror import admin_lists

pytestmark = pytest.mark.django_db

JOURNAL = "admin:catalog_journalentry_changelist"


@pytest.fixture
def journal():
    """Seven journal entries, five of them of foo."""
    JournalEntry.objects.bulk_create(
        JournalEntry(name=name, normalized_name=name, version="1.0", action="new release")
        for name in ["foo"] * 5 + ["bar"] * 2
    )


@pytest.fixture
def limit(monkeypatch):
    monkeypatch.setattr(admin_lists, "COUNT_LIMIT", 3)


def counts(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_list_counts_at_most_the_limit_and_says_there_are_more(admin_client, journal, limit):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(JOURNAL), {"q": "foo"})

    [count] = counts(queries)  # one count (no total beside it), of at most 4 rows
    assert "LIMIT 4" in count
    assert "more than 3 journal entries" in response.content.decode()
    assert response.context["cl"].paginator.num_pages == 1  # pages reach the 3rd row alone


def test_a_list_under_the_limit_is_counted_exactly(admin_client, journal, limit):
    response = admin_client.get(reverse(JOURNAL), {"q": "bar"})
    assert response.context["cl"].result_count == 2
    assert "2 journal entries" in response.content.decode()


def test_an_unfiltered_list_is_estimated_by_postgresql_and_capped_elsewhere(
    admin_client, journal, limit
):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_journalentry")  # what autovacuum does
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(JOURNAL))

    text = response.content.decode()
    if connection.vendor == "postgresql":
        assert counts(queries) == []  # no row counted
        assert "about 7 journal entries" in text
    else:
        assert "more than 3 journal entries" in text
    assert response.context["cl"].paginator.num_pages == 1


def test_pages_reach_the_counted_rows_and_no_further(admin_client, journal, limit, monkeypatch):
    monkeypatch.setattr(JournalEntryAdmin, "list_per_page", 2)
    second = admin_client.get(reverse(JOURNAL), {"q": "foo", "p": "2"})
    assert len(second.context["cl"].result_list) == 1  # the 3rd of 5: the last counted
    response = admin_client.get(reverse(JOURNAL), {"q": "foo", "p": "3"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_facets_are_never_counted(admin_client, journal):
    with CaptureQueriesContext(connection) as plain:
        admin_client.get(reverse(JOURNAL))
    with CaptureQueriesContext(connection) as faceted:
        admin_client.get(reverse(JOURNAL), {"_facets": "1"})
    assert len(faceted) == len(plain)


@pytest.fixture
def files():
    project = Project.objects.create(name="foo", normalized_name="foo")
    release = Release.objects.create(project=project, version="1.0")
    for n, size in enumerate([3, 1, 2]):
        filename = f"foo-1.0.{n}.tar.gz"
        Distribution.objects.create(
            project=project, release=release, filename=filename, packagetype="sdist",
            size=size, sha256=f"{n:064x}", md5="", blake2b_256="", upload_time=timezone.now(),
            blob_path=filename,
        )  # fmt: skip


def order_by(queries) -> str:
    """The ORDER BY of the page's select of files."""
    [select] = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "catalog_distribution"') and "ORDER BY" in q["sql"]
    ]
    return select.partition("ORDER BY")[2]


def test_a_sort_by_a_column_without_an_index_is_not_offered_nor_done(admin_client, files):
    url = reverse("admin:catalog_distribution_changelist")
    size = 4  # list_display's fourth column, after the action checkbox
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"o": str(size)})

    assert '"size"' not in order_by(queries)
    assert [f.size for f in response.context["cl"].result_list] == [2, 1, 3]  # newest first
    html = response.content.decode()
    assert 'class="column-size"' in html  # its header offers no sort
    assert 'class="sortable column-filename' in html


def test_a_sort_by_an_indexed_column_is_done(admin_client, files):
    url = reverse("admin:catalog_distribution_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"o": "-1"})  # filename, descending

    assert '"filename" DESC' in order_by(queries)
    names = [f.filename for f in response.context["cl"].result_list]
    assert names == sorted(names, reverse=True)
