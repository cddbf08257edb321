"""What the catalog admin's search boxes match: filters an index answers at PyPI's size.

Django's default search, ``UPPER(col) LIKE UPPER('%q%')`` on every field, reads every row of
the table (11 s over 3.5 M files). Here a term is matched the way staff look things up, each
form answered by a B-tree (PostgreSQL's ``varchar_pattern_ops`` indexes, made by Django beside
each ``db_index``/``unique`` CharField, answer a ``LIKE 'q%'``):

- a project by its name or the beginning of it, normalized as PEP 503 (``Foo.Bar`` finds
  ``foo-bar`` and ``foo-bar-baz``, not ``bar``): ``normalized_name LIKE 'foo-bar%'``;
- a release or journal entry by that name, then optionally an exact version (``foo 1.0``);
- a file by its exact filename, by the beginning of its sha256 (8 hex digits or more), or by its
  project's name as above.

A project search also asks for names from the prefix on (``normalized_name >= 'q'``, true of
every name that begins so, in any collation): the list, in name order, then starts where the
names do instead of walking the name index from ``a`` (``types``: 0.6 s without).

Releases and files found by a project's name are those of at most ``PROJECTS_AT_MOST`` projects
(looked up first, by the name's index), listed by project then newest first: ordered by their
own id instead, PostgreSQL may walk the table newest first looking for them, which takes seconds
when those projects' rows are all old (``azure``, 69,000 projects of the scale catalog: 2 s).
"""

import re

from django.db.models import QuerySet
from packaging.utils import canonicalize_name

from .models import Project

# A file is searched by sha256 when the term is this (a name of 8+ hex digits is rare).
SHA256_PREFIX = re.compile(r"[0-9a-fA-F]{8,64}")
# A term ending so is a filename (PyPI's distribution formats, legacy ones included).
FILE_SUFFIXES = (
    ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".egg", ".exe",
    ".msi", ".rpm", ".dmg", ".deb",
)  # fmt: skip

PROJECT_HELP = (
    "Finds projects by name or its beginning, normalized (PEP 503: Foo.Bar finds foo-bar and "
    "foo-bar-baz); not words inside a name."
)
RELEASE_HELP = (
    "A project's name or its beginning, normalized (Foo.Bar finds foo-bar, foo-bar-baz), "
    "optionally followed by an exact version: foo-bar 1.0."
)
DISTRIBUTION_HELP = (
    "An exact filename (foo_bar-1.0-py3-none-any.whl), the beginning of a sha256 (8 hex digits "
    "or more), or a project's name or its beginning, normalized (Foo.Bar finds foo-bar's files)."
)
JOURNAL_HELP = (
    "A project's name or its beginning, normalized (Foo.Bar finds foo-bar, foo-bar-baz), "
    "optionally followed by an exact version: foo-bar 1.0."
)


# Projects whose releases or files a name search lists; "azure" begins 1 in 10 names.
PROJECTS_AT_MOST = 1_000
# The order of releases and files found by a project's name (see above): an index's order.
BY_PROJECT = ("project_id", "-id")


def name_prefix(term: str) -> str:
    """The term as the beginning of a normalized name."""
    return canonicalize_name(term.strip())


def _name_and_version(term: str) -> tuple[str, str | None]:
    name, _, version = term.strip().partition(" ")
    return name_prefix(name), version.strip() or None


def project_search(queryset: QuerySet, term: str) -> QuerySet:
    prefix = name_prefix(term)
    return queryset.filter(normalized_name__startswith=prefix, normalized_name__gte=prefix)


def project_ids_named(prefix: str) -> tuple[list[int], str | None]:
    """Ids of the first ``PROJECTS_AT_MOST`` projects by name whose normalized name begins with
    ``prefix``, and a note for staff when more do. In name order, so that each page of a list
    finds the same projects (unordered, PostgreSQL's synchronized scans start anywhere)."""
    ids = list(
        project_search(Project.objects.all(), prefix)
        .order_by("normalized_name")
        .values_list("id", flat=True)[: PROJECTS_AT_MOST + 1]
    )
    if len(ids) <= PROJECTS_AT_MOST:
        return ids, None
    return ids[:PROJECTS_AT_MOST], (
        f"More than {PROJECTS_AT_MOST:,} projects have a name beginning with {prefix!r}: "
        f"those of the first {PROJECTS_AT_MOST:,} by name are listed. Type more of the name."
    )


def release_search(queryset: QuerySet, term: str) -> tuple[QuerySet, str | None]:
    """The releases and a note for staff (more projects matched than are listed)."""
    name, version = _name_and_version(term)
    ids, note = project_ids_named(name)
    queryset = queryset.filter(project_id__in=ids)
    return (queryset.filter(version=version) if version else queryset), note


def distribution_search(queryset: QuerySet, term: str) -> tuple[QuerySet, str | None]:
    """The files and a note for staff (more projects matched than are listed)."""
    term = term.strip()
    if SHA256_PREFIX.fullmatch(term):
        return queryset.filter(sha256__startswith=term.lower()), None
    if term.lower().endswith(FILE_SUFFIXES):
        return queryset.filter(filename=term), None
    ids, note = project_ids_named(name_prefix(term))
    return queryset.filter(project_id__in=ids), note


def journal_search(queryset: QuerySet, term: str) -> QuerySet:
    name, version = _name_and_version(term)
    queryset = queryset.filter(normalized_name__startswith=name)
    return queryset.filter(version=version) if version else queryset
