from django import forms
from django.contrib import admin, messages
from django.db import transaction

from pypimirror.admin import DateHierarchyAdmin

from . import services
from .models import Distribution, JournalEntry, Project, Release
from .sources import source_choices, source_label


class ReleaseInline(admin.TabularInline):
    model = Release
    fields = ("version", "yanked", "yanked_reason", "created")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


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
class ProjectAdmin(admin.ModelAdmin):
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
    search_fields = ("name", "normalized_name")
    readonly_fields = (
        "name",
        "normalized_name",
        "last_serial",
        "status",
        "index_status",  # PEP 792, the upstream's (replication sets it, journaled)
        "index_status_reason",
        "created",
        "updated",
    )
    inlines = [ReleaseInline]
    actions = ["block", "unblock"]

    def has_add_permission(self, request) -> bool:
        return False  # projects come from imports and replication, with their journal

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

    @admin.action(description="Take down (block) the selected projects")
    def block(self, request, queryset) -> None:
        self._set_blocked(request, queryset, blocked=True)

    @admin.action(description="Restore (unblock) the selected projects")
    def unblock(self, request, queryset) -> None:
        self._set_blocked(request, queryset, blocked=False)

    def _set_blocked(self, request, queryset, *, blocked: bool) -> None:
        for project in queryset:
            with transaction.atomic():
                locked = services.project_lock(name=project.normalized_name)
                services.project_set_blocked(project=locked, blocked=blocked)
        self.message_user(request, f"{queryset.count()} project(s) updated.", messages.SUCCESS)


class DistributionInline(admin.TabularInline):
    model = Distribution
    fields = ("filename", "packagetype", "size", "sha256", "yanked", "upload_time")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("project", "version", "yanked", "created")
    list_filter = ("yanked",)
    search_fields = ("project__name", "project__normalized_name", "version")
    list_select_related = ("project",)
    readonly_fields = (
        "project",
        "version",
        "yanked",
        "yanked_reason",
        "metadata",
        "created",
    )
    inlines = [DistributionInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Distribution)
class DistributionAdmin(DateHierarchyAdmin):
    list_display = (
        "filename",
        "project",
        "packagetype",
        "size",
        "yanked",
        "upload_time",
    )
    list_filter = ("packagetype", "yanked")
    search_fields = ("filename", "sha256", "project__normalized_name")
    list_select_related = ("project",)
    date_hierarchy = "upload_time"
    readonly_fields = [f.name for f in Distribution._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "version", "action", "submitted_date")
    ordering = ("-id",)  # newest first: the id is the serial
    search_fields = ("normalized_name", "action")
    list_filter = ("submitted_date",)
    readonly_fields = ("name", "normalized_name", "version", "action", "submitted_date")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
