from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.utils.html import format_html

from .clients import UpstreamUnusable
from .models import ProjectSyncState, SyncRun, Upstream
from .redaction import redact_text, redact_url, url_secrets
from .schedules import upstream_schedule_delete, upstream_schedule_ensure
from .services import upstream_url_detect


class MaskedURLInput(forms.URLInput):
    """A URL input that never renders a secret, be it the stored URL or one just typed."""

    def format_value(self, value):
        value = super().format_value(value)
        return redact_url(value) if value else value


class UpstreamForm(forms.ModelForm):
    """The URL is shown with its credentials masked; sent back unchanged, the stored URL (and
    its secrets) is kept. A new URL is contacted before anything is saved: one that cannot be
    used is a form error."""

    class Meta:
        model = Upstream
        fields = ["name", "url", "enabled"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.detected_protocol: str | None = None
        if "url" not in self.fields:  # staff who may only view (UpstreamAdmin.get_fields)
            return
        self.fields["url"].widget = MaskedURLInput()
        self.fields["url"].help_text += (
            " Credentials in it (https://USER:PASSWORD@host/..., ?token=...) are sent to that"
            " host only and shown masked; leave *** as it is to keep them."
        )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if self.instance.pk and url == redact_url(self.instance.url):
            return self.instance.url
        try:
            self.detected_protocol = upstream_url_detect(url=url)
        except UpstreamUnusable as exc:
            raise forms.ValidationError(
                "This URL cannot be used as an upstream: %(error)s",
                code="unusable",
                params={"error": redact_text(str(exc), url_secrets(url))},
            ) from None
        return url


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = ("name", "location", "enabled", "protocol", "last_serial", "last_run")
    list_filter = ("enabled", "protocol")
    search_fields = ("name",)  # not the URL: a search would tell its secrets a letter at a time
    readonly_fields = ("protocol", "last_serial", "created")
    actions = ["sync_now"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="URL", ordering="url")
    def location(self, obj: Upstream) -> str:
        return redact_url(obj.url)

    def get_fields(self, request, obj=None) -> list[str]:
        """Staff who may only view an upstream see its URL masked too (the form masks it for
        those who may change it)."""
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return ["location" if field == "url" else field for field in fields]
        return fields

    @admin.display(description="Last run")
    def last_run(self, obj: Upstream) -> str:
        run = obj.runs.first()
        return f"#{run.pk} {run.get_state_display()}" if run else "never"

    def save_model(self, request, obj, form, change) -> None:
        if form.detected_protocol is not None:  # a new URL: what its first contact found
            obj.protocol = form.detected_protocol
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
