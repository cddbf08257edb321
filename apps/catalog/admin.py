from django.contrib import admin, messages
from django.db import transaction

from . import services
from .models import Distribution, JournalEntry, Project, Release


class ReleaseInline(admin.TabularInline):
    model = Release
    fields = ("version", "yanked", "yanked_reason", "created")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "normalized_name", "status", "index_status", "last_serial", "updated")
    list_filter = ("status", "index_status")
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
class DistributionAdmin(admin.ModelAdmin):
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
    search_fields = ("normalized_name", "action")
    list_filter = ("submitted_date",)
    readonly_fields = ("name", "normalized_name", "version", "action", "submitted_date")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
