"""The catalog in the admin, at PyPI's size (3.5 M files): every search, filter, sort and count
answered by an index (admin_search.py, pypimirror/admin_lists.py), and a project's or a
release's page showing its newest rows with a link to all of them."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from pypimirror.admin_lists import LargeTableAdmin, LimitedInline

from . import admin_search, services
from .admin_takedowns import project_takedowns_html
from .models import Distribution, JournalEntry, Project, Release
from .sources import source_choices, source_label


def _list_link(model, filters: dict[str, int], count: int) -> str:
    """A link to the model's list, filtered, saying how many rows it has."""
    url = reverse(f"admin:catalog_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    opts = model._meta
    noun = opts.verbose_name if count == 1 else opts.verbose_name_plural
    return format_html('<a href="{}?{}">{} {}</a>', url, query, f"{count:,}", noun)


class ReleaseInline(LimitedInline):
    """The project's 20 newest releases; all of them are a link away (ProjectAdmin.releases)."""

    model = Release
    fields = ("version", "yanked", "yanked_reason", "created")
    readonly_fields = fields
    ordering = ("-created", "-id")
    show_change_link = True
    verbose_name_plural = f"newest {LimitedInline.limit} releases"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project")


class ProjectForm(forms.ModelForm):
    """Only the source is edited here, and only through ``services.project_set_source``."""

    source = forms.ChoiceField(
        help_text="Who may change this project: its syncs alone add, change or remove its "
        "files. Handed to an upstream, its next sync from there makes the files match that "
        "upstream's (each change journaled); handed to local, syncs leave it alone."
    )

    class Meta:
        model = Project
        fields = ["source"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = source_choices()
        if self.instance.source not in choices:  # an upstream deleted since
            choices[self.instance.source] = self.instance.source
        self.fields["source"].choices = list(choices.items())


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return list(source_choices().items())

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


@admin.register(Project)
class ProjectAdmin(LargeTableAdmin):
    form = ProjectForm
    list_display = (
        "name",
        "normalized_name",
        "source_name",
        "status",
        "index_status",
        "last_serial",
        "updated",
    )
    list_filter = ("status", "index_status", SourceFilter)
    search_fields = ("normalized_name",)
    search_help_text = admin_search.PROJECT_HELP
    sortable_by = ("normalized_name", "last_serial")
    readonly_fields = (
        "name",
        "normalized_name",
        "last_serial",
        "status",
        "index_status",  # PEP 792, the upstream's (replication sets it, journaled)
        "index_status_reason",
        "created",
        "updated",
        "releases",
        "files",
        "takedown_list",
    )
    inlines = [ReleaseInline]

    def has_add_permission(self, request) -> bool:
        return False  # projects come from imports and replication, with their journal

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return admin_search.project_search(queryset, search_term), False

    @admin.display(description="Releases")
    def releases(self, obj: Project) -> str:
        """All of them, in the Releases list (the page shows the newest alone)."""
        return _list_link(Release, {"project__id__exact": obj.pk}, obj.releases.count())

    @admin.display(description="Files")
    def files(self, obj: Project) -> str:
        return _list_link(Distribution, {"project__id__exact": obj.pk}, obj.distributions.count())

    @admin.display(description="Source", ordering="source")
    def source_name(self, obj: Project) -> str:
        return source_label(obj.source)

    def save_model(self, request, obj, form, change) -> None:
        if "source" in form.changed_data:
            with transaction.atomic():
                locked = services.project_lock(name=obj.normalized_name)
                services.project_set_source(project=locked, source=form.cleaned_data["source"])
            self.message_user(
                request,
                f"{obj.name} now belongs to {source_label(form.cleaned_data['source'])}.",
                messages.SUCCESS,
            )

    @admin.display(description="Takedowns")
    def takedown_list(self, obj: Project) -> str:
        """Its takedowns, and a link to the takedown form (a takedown needs a reason)."""
        return project_takedowns_html(obj)


class DistributionInline(LimitedInline):
    """The release's first 100 files by name; all of them are a link away."""

    model = Distribution
    limit = 100
    fields = ("filename", "packagetype", "size", "sha256", "yanked", "upload_time")
    readonly_fields = fields
    ordering = ("filename",)
    verbose_name_plural = f"files (the first {limit} by name)"


@admin.register(Release)
class ReleaseAdmin(LargeTableAdmin):
    list_display = ("project", "version", "yanked", "created")
    list_filter = ("yanked",)
    ordering = ("-id",)  # newest first, in the primary key's order
    search_fields = ("project__normalized_name", "version")
    search_help_text = admin_search.RELEASE_HELP
    # The page's projects in a second query (get_queryset), not a join: a join lets PostgreSQL
    # pick a plan that walks a table to find a search's few rows.
    list_select_related = ()
    readonly_fields = (
        "project",
        "version",
        "yanked",
        "yanked_reason",
        "metadata",
        "created",
        "files",
    )
    inlines = [DistributionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        queryset, note = admin_search.release_search(queryset, search_term)
        if note:
            self.message_user(request, note, messages.WARNING)
        return queryset, False

    def get_ordering(self, request):
        return admin_search.BY_PROJECT if request.GET.get(SEARCH_VAR, "").strip() else self.ordering

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("project")

    @admin.display(description="Files")
    def files(self, obj: Release) -> str:
        return _list_link(Distribution, {"release__id__exact": obj.pk}, obj.distributions.count())


@admin.register(Distribution)
class DistributionAdmin(LargeTableAdmin):
    list_display = (
        "filename",
        "project",
        "packagetype",
        "size",
        "yanked",
        "upload_time",
    )
    # Each an index (migration 0005): a rare value is found without reading the table.
    list_filter = ("packagetype", "yanked", "upload_time")
    ordering = ("-id",)  # newest first, in the primary key's order
    sortable_by = ("filename", "upload_time")
    search_fields = ("filename", "sha256", "project__normalized_name")
    search_help_text = admin_search.DISTRIBUTION_HELP
    list_select_related = ()  # the page's projects in a second query, as for releases
    readonly_fields = [f.name for f in Distribution._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("project")

    def has_add_permission(self, request) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        queryset, note = admin_search.distribution_search(queryset, search_term)
        if note:
            self.message_user(request, note, messages.WARNING)
        return queryset, False

    def get_ordering(self, request):
        return admin_search.BY_PROJECT if request.GET.get(SEARCH_VAR, "").strip() else self.ordering


@admin.register(JournalEntry)
class JournalEntryAdmin(LargeTableAdmin):
    list_display = ("id", "name", "version", "action", "submitted_date")
    ordering = ("-id",)  # newest first: the id is the serial
    sortable_by = ("id", "submitted_date")
    search_fields = ("normalized_name", "version")
    search_help_text = admin_search.JOURNAL_HELP
    list_filter = ("submitted_date",)
    readonly_fields = ("name", "normalized_name", "version", "action", "submitted_date")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return admin_search.journal_search(queryset, search_term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
