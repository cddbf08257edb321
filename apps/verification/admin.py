"""Verify runs and their findings in the admin: read-only (verify writes them)."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from pypimirror.admin_lists import LargeTableAdmin, ReadOnlyAdminMixin, cut_to_fit, progress_bar

from .models import Finding, VerifyRun


class ReadOnlyAdmin(ReadOnlyAdminMixin, LargeTableAdmin):
    """Written by verify alone: staff look."""


@admin.register(VerifyRun)
class VerifyRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "state",
        "trigger",
        "progress",
        "checked",
        "orphan_walk",
        "findings",
        "started",
    )
    list_filter = ("state", "trigger", "repair")
    date_hierarchy = "started"
    fields = readonly_fields = (
        "state",
        "trigger",
        "repair",
        "delete_orphans",
        "projects",
        "started",
        "updated",
        "finished",
        "progress",
        "cursor",
        "files_checked",
        "checked",
        "orphan_walk",
        "resumed",
        "findings",
        "error",
    )

    @admin.display(description="Progress")
    def progress(self, obj: VerifyRun) -> str:
        return progress_bar(obj.files_checked, obj.files_total)

    @admin.display(description="Orphan walk")
    def orphan_walk(self, obj: VerifyRun) -> str:
        """Done, skipped (a --project run), or the last store folder walked (its cursor)."""
        if obj.orphans_walked:
            return "done"
        if obj.projects:
            return "skipped (projects named)"
        if obj.orphans_cursor:
            return f"done to {obj.orphans_cursor}"
        return "not started"

    @admin.display(description="Checked", ordering="bytes_checked")
    def checked(self, obj: VerifyRun) -> str:
        return filesizeformat(obj.bytes_checked)

    @admin.display(description="Findings", ordering="findings_count")
    def findings(self, obj: VerifyRun) -> str:
        if obj.state == VerifyRun.State.RUNNING:
            return "-"
        url = f"../finding/?run__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.findings_count)


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("blob_name", "kind", "blob", "project_name", "repair", "run_number", "found")
    list_filter = ("kind", "blob", "repair", "run")
    search_fields = ("path", "project", "filename")
    date_hierarchy = "found"
    fields = readonly_fields = (
        "run",
        "kind",
        "blob",
        "path",
        "project",
        "filename",
        "distribution_id",
        "expected_sha256",
        "actual_sha256",
        "expected_size",
        "actual_size",
        "found",
        "repair",
        "repair_detail",
        "repaired",
    )

    @admin.display(description="Path", ordering="path")
    def blob_name(self, obj: Finding) -> str:
        """The file's name (its whole store path on hover and on the finding's page)."""
        return cut_to_fit(obj.path.rsplit("/", 1)[-1], 36, hover=obj.path)

    @admin.display(description="Project", ordering="project")
    def project_name(self, obj: Finding) -> str:
        return cut_to_fit(obj.project, 24)

    @admin.display(description="Run", ordering="run")
    def run_number(self, obj: Finding) -> str:
        return f"#{obj.run_id}"
