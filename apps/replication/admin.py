from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.utils.html import format_html

from .models import ProjectSyncState, SyncRun, Upstream
from .rules import RulesError, rules_from_json
from .schedules import upstream_schedule_delete, upstream_schedule_ensure


def _formfield(field: models.Field, **kwargs) -> forms.Field:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class UpstreamForm(forms.ModelForm):
    class Meta:
        model = Upstream
        fields = ["name", "url", "enabled", "rules"]
        formfield_callback = _formfield

    def clean_rules(self) -> dict:
        """Rules as they are stored (normalized); bad ones are shown, and nothing is saved."""
        try:
            return rules_from_json(self.cleaned_data["rules"]).to_json()
        except RulesError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = ("name", "url", "enabled", "protocol", "last_serial", "last_run")
    list_filter = ("enabled", "protocol")
    search_fields = ("name", "url")
    readonly_fields = ("protocol", "last_serial", "created")
    actions = ["sync_now"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="Last run")
    def last_run(self, obj: Upstream) -> str:
        run = obj.runs.first()
        return f"#{run.pk} {run.get_state_display()}" if run else "never"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        upstream_schedule_ensure(upstream=obj)

    def delete_model(self, request, obj) -> None:
        upstream_schedule_delete(upstream=obj)
        super().delete_model(request, obj)

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset) -> None:
        from .tasks import sync_upstream

        for upstream in queryset:
            transaction.on_commit(
                lambda pk=upstream.pk: sync_upstream.delay(pk, SyncRun.Trigger.ADMIN)
            )
        self.message_user(
            request,
            f"Sync queued for {queryset.count()} upstream(s); follow it under Sync runs.",
            messages.SUCCESS,
        )


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    change_list_template = "admin/replication/syncrun/change_list.html"
    change_form_template = "admin/replication/syncrun/change_form.html"
    list_display = (
        "id",
        "upstream",
        "trigger",
        "state",
        "progress",
        "files_fetched",
        "megabytes",
        "started",
        "finished",
    )
    list_filter = ("state", "trigger", "upstream")
    list_select_related = ("upstream",)
    date_hierarchy = "started"
    readonly_fields = [f.name for f in SyncRun._meta.fields] + ["progress"]

    @admin.display(description="Progress")
    def progress(self, obj: SyncRun) -> str:
        planned = obj.projects_planned or 1
        percent = round(100 * obj.projects_finished / planned)
        return format_html(
            '<progress max="100" value="{}"></progress> {}/{} ({} failed, {} skipped)',
            percent,
            obj.projects_finished,
            obj.projects_planned,
            obj.projects_failed,
            obj.projects_skipped,
        )

    @admin.display(description="MB")
    def megabytes(self, obj: SyncRun) -> str:
        return f"{obj.bytes_fetched / 1e6:.1f}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProjectSyncState)
class ProjectSyncStateAdmin(admin.ModelAdmin):
    list_display = (
        "normalized_name",
        "upstream",
        "serial_reached",
        "serial_wanted",
        "attempts",
        "next_retry",
        "short_error",
    )
    list_filter = ("upstream",)
    search_fields = ("normalized_name", "last_error")
    readonly_fields = [f.name for f in ProjectSyncState._meta.fields]

    @admin.display(description="Last error")
    def short_error(self, obj: ProjectSyncState) -> str:
        return obj.last_error[:120]

    def has_add_permission(self, request) -> bool:
        return False
