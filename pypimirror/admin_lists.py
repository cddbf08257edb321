"""Admin pages that stay fast on tables of millions of rows (PyPI's catalog: 3.5 M files).

What a stock ModelAdmin does that scans such a table, and what these classes do instead:

- it counts every matching row, twice (the filtered count and the total): LargeTablePaginator
  counts at most ``COUNT_LIMIT`` rows, and an unfiltered PostgreSQL table is not counted at all
  (its planner's estimate, ``pg_class.reltuples``, is shown as "about N"); pages go as far as
  the rows counted, so no page asks for a deep OFFSET either;
- it sorts by any column of ``list_display`` when asked in the URL (``?o=3``), the headers
  offering only ``sortable_by``: LargeTableAdmin sorts by ``sortable_by`` alone, which names
  the columns an index can order;
- it counts each filter's choices when asked (``?_facets``): never here;
- an inline shows every related row, a form each (a project's 2,000 releases): LimitedInline
  shows the first ``limit`` in its order, read-only, in one query.

On SQLite (the embedded default) the counts are capped the same way; there is no estimate.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator

# Rows a change list counts at most: enough for 100 pages of 100, cheap through any index.
COUNT_LIMIT = 10_000


class RowCount(int):
    """A number of rows that is not exact: it pages as its value and reads as its text
    ("about 3,533,945", "more than 10,000") wherever the admin shows the count."""

    text: str

    def __new__(cls, value: int, text: str) -> "RowCount":
        count = super().__new__(cls, value)
        count.text = text
        return count

    def __str__(self) -> str:
        return self.text


def table_rows_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows in the queryset's table (as of its last ANALYZE or
    VACUUM); None elsewhere, or before the table was ever analyzed."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class LargeTablePaginator(Paginator):
    """Counts at most ``COUNT_LIMIT`` + 1 rows (``more than 10,000``); an unfiltered table that
    PostgreSQL estimates larger is not counted (``about 3,533,945``). Either way the pages
    reach the ``COUNT_LIMIT``-th row and no further."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = table_rows_estimate(queryset)
            if estimate is not None and estimate > COUNT_LIMIT:
                return RowCount(COUNT_LIMIT, f"about {estimate:,}")
        counted = queryset.select_related(None).order_by()[: COUNT_LIMIT + 1].count()
        if counted > COUNT_LIMIT:
            return RowCount(COUNT_LIMIT, f"more than {COUNT_LIMIT:,}")
        return counted


class SortableByChangeList(ChangeList):
    """Sorts by the columns of ``sortable_by`` alone, whatever ``?o=`` asks."""

    def get_ordering_field(self, field_name):
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class LargeTableAdmin(admin.ModelAdmin):
    """A ModelAdmin for a table of millions of rows: capped or estimated counts, no total
    count, no facet counts, sorting by ``sortable_by`` only (set it to indexed columns; the
    default ``ordering`` should be an index's order too)."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()

    def get_changelist(self, request, **kwargs):
        return SortableByChangeList

    def get_changelist_instance(self, request):
        """A year too large for a C int (``?started__year=99999999999999``) is a bad lookup,
        answered as Django answers any other (a redirect to ``?e=1``): Django 5.2 lets its
        OverflowError through (a 500)."""
        try:
            return super().get_changelist_instance(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class LimitedInlineFormSet(BaseInlineFormSet):
    """An inline's first rows alone (``LimitedInline.limit``), in one query: a project's
    2,000 releases are a link to their list, not a form each."""

    limit = 20

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset()[: self.limit]
        return self._queryset


class LimitedInline(admin.TabularInline):
    """A read-only inline of the first ``limit`` related rows in its ``ordering`` (a project's
    newest releases); the page links to the rest (a filtered list)."""

    formset = LimitedInlineFormSet
    limit = 20
    extra = 0
    can_delete = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.limit = self.limit
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def progress_bar(done: int, total: int) -> str:
    """A run's progress as a bar and its figures, for a list or change page."""
    return format_html(
        '<progress max="{}" value="{}"></progress> {}/{}', total or 1, done, done, total
    )


class ReadOnlyAdminMixin:
    """For rows that services alone write (probes, reports, verify runs): staff look only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def cut_to_fit(text: str, length: int, *, hover: str | None = None) -> str:
    """Long text cut to fit a list's column, in full on hover; ``hover``: shown on hover
    instead, always (a file's name in the column, its whole path on hover)."""
    if not text:
        return "-"
    if hover is None and len(text) <= length:
        return format_html('<span class="nowrap">{}</span>', text)
    return format_html(
        '<span class="nowrap" title="{}">{}</span>',
        text if hover is None else hover,
        Truncator(text).chars(length),
    )
