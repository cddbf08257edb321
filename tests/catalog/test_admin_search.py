"""The catalog admin's search boxes (apps/catalog/admin_search.py): what each finds, and that
each is a filter an index answers, never Django's ``UPPER(col) LIKE UPPER('%q%')`` scan."""

import hashlib

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.catalog import admin_search
from apps.catalog.models import Distribution, JournalEntry, Project, Release

pytestmark = pytest.mark.django_db

NAMES = ["foo-bar", "foo-bar-baz", "bar", "xfoo-bar", "foo"]


def sha256(filename: str) -> str:
    return hashlib.sha256(filename.encode()).hexdigest()


@pytest.fixture
def catalog():
    """Each of NAMES (displayed as Foo.Bar ...) with releases 1.0 and 2.0, each with a wheel and
    an sdist and a journal entry."""
    for name in NAMES:
        project = Project.objects.create(name=name.title().replace("-", "."), normalized_name=name)
        for version in ("1.0", "2.0"):
            release = Release.objects.create(project=project, version=version)
            stem = f"{name.replace('-', '_')}-{version}"
            for filename, kind in ((f"{stem}-py3-none-any.whl", "bdist_wheel"),
                                   (f"{stem}.tar.gz", "sdist")):  # fmt: skip
                Distribution.objects.create(
                    project=project, release=release, filename=filename, packagetype=kind,
                    size=1, sha256=sha256(filename), md5="", blake2b_256="",
                    upload_time=timezone.now(), blob_path=filename,
                )  # fmt: skip
            JournalEntry.objects.create(
                name=project.name, normalized_name=name, version=version, action="new release"
            )


def listed(client, model, query: str):
    url = reverse(f"admin:catalog_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": query})
    assert response.status_code == 200
    return response, list(response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Foo.Bar", {"foo-bar", "foo-bar-baz"}),  # normalized, then its beginning
        ("foo", {"foo", "foo-bar", "foo-bar-baz"}),
        ("bar", {"bar"}),  # not a word inside a name
        ("FOO_BAR-BAZ", {"foo-bar-baz"}),
        ("nothing", set()),
    ],
)
def test_projects_are_found_by_a_normalized_name_or_its_beginning(
    admin_client, catalog, query, found
):
    _, projects = listed(admin_client, Project, query)
    assert {p.normalized_name for p in projects} == found


def test_releases_are_found_by_a_name_then_an_exact_version(admin_client, catalog):
    _, releases = listed(admin_client, Release, "Foo.Bar 2.0")
    assert {(r.project.normalized_name, r.version) for r in releases} == {
        ("foo-bar", "2.0"),
        ("foo-bar-baz", "2.0"),
    }
    _, releases = listed(admin_client, Release, "bar")
    assert {(r.project.normalized_name, r.version) for r in releases} == {
        ("bar", "1.0"),
        ("bar", "2.0"),
    }


@pytest.mark.parametrize(
    "query", ["foo_bar-1.0.tar.gz", sha256("foo_bar-1.0.tar.gz")[:8],
              sha256("foo_bar-1.0.tar.gz")[:20].upper(), sha256("foo_bar-1.0.tar.gz")],
)  # fmt: skip
def test_a_file_is_found_by_its_exact_name_or_the_beginning_of_its_sha256(
    admin_client, catalog, query
):
    _, files = listed(admin_client, Distribution, query)
    assert [f.filename for f in files] == ["foo_bar-1.0.tar.gz"]


def test_files_are_found_by_their_projects_name(admin_client, catalog):
    _, files = listed(admin_client, Distribution, "Foo.Bar")
    assert {f.project.normalized_name for f in files} == {"foo-bar", "foo-bar-baz"}
    assert len(files) == 8
    # Listed by project, then newest first.
    assert [f.project_id for f in files] == sorted(f.project_id for f in files)


def test_a_filename_is_matched_whole_not_by_its_beginning(admin_client, catalog):
    _, files = listed(admin_client, Distribution, "foo_bar-1.0-py3-none-any")
    assert files == []


def test_journal_entries_are_found_by_a_name_then_an_exact_version(admin_client, catalog):
    _, entries = listed(admin_client, JournalEntry, "foo-bar 1.0")
    assert {(e.normalized_name, e.version) for e in entries} == {
        ("foo-bar", "1.0"),
        ("foo-bar-baz", "1.0"),
    }


@pytest.mark.parametrize("model", [Release, Distribution])
def test_a_name_beginning_more_projects_than_listed_says_so(
    admin_client, catalog, monkeypatch, model
):
    monkeypatch.setattr(admin_search, "PROJECTS_AT_MOST", 2)
    response, rows = listed(admin_client, model, "foo")  # foo, foo-bar, foo-bar-baz
    assert {row.project.normalized_name for row in rows} == {"foo", "foo-bar"}  # first by name
    assert "More than 2 projects have a name beginning with" in response.content.decode()


SEARCHES = [
    (Project, "Foo.Bar"),
    (Release, "foo-bar 1.0"),
    (Distribution, "foo_bar-1.0.tar.gz"),
    (Distribution, sha256("foo_bar-1.0.tar.gz")[:12]),
    (Distribution, "foo-bar"),
    (JournalEntry, "foo-bar"),
]


@pytest.mark.parametrize(("model", "query"), SEARCHES)
def test_no_search_sends_a_substring_or_case_folded_pattern(admin_client, catalog, model, query):
    with CaptureQueriesContext(connection) as queries:
        listed(admin_client, model, query)
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert "UPPER(" not in sql
    assert "LIKE '%" not in sql
    assert "LIKE" in sql or "= '" in sql


def _index_conditions(sql: str, params=None) -> str:
    """The index conditions of the statement's plan when PostgreSQL may not read a table whole
    (enable_seqscan off: a table scan is then chosen only if no index can answer)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    return "\n".join(line for line in plan if "Index Cond" in line)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL")
@pytest.mark.parametrize(
    ("model", "query", "column"),
    [
        (Project, "Foo.Bar", "normalized_name"),
        (Release, "foo-bar 1.0", "project_id"),
        (Distribution, "foo_bar-1.0.tar.gz", "filename"),
        (Distribution, sha256("foo_bar-1.0.tar.gz")[:12], "sha256"),
        (Distribution, "foo-bar", "project_id"),
        (JournalEntry, "foo-bar", "normalized_name"),
    ],
)
def test_postgresql_answers_each_search_from_an_index(admin_user, catalog, model, query, column):
    request = RequestFactory().get("/", {"q": query})
    request.user = admin_user
    model_admin = admin.site._registry[model]
    queryset, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), query)
    assert column in _index_conditions(*queryset.order_by().query.sql_with_params())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL")
def test_the_projects_a_name_search_looks_up_are_found_by_index(catalog):
    with CaptureQueriesContext(connection) as queries:
        ids, note = admin_search.project_ids_named("foo")
    assert len(ids) == 3 and note is None
    [query] = queries.captured_queries
    assert "normalized_name" in _index_conditions(query["sql"])
