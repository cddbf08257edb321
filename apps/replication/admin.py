from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from packaging.utils import canonicalize_name

from pypimirror.admin_lists import LargeTableAdmin, progress_bar

from .clients import UpstreamUnusable
from .models import ProjectSyncState, SyncRun, Upstream
from .redaction import redact_text, redact_url, url_secrets
from .rules import RulesError, rules_from_json
from .schedules import upstream_schedule_delete, upstream_schedule_ensure
from .services import upstream_url_detect


class MaskedURLInput(forms.URLInput):
    """A URL input that never renders a secret, be it the stored URL or one just typed."""

    def format_value(self, value):
        value = super().format_value(value)
        return redact_url(value) if value else value


def _formfield(field: models.Field, **kwargs) -> forms.Field:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class UpstreamForm(forms.ModelForm):
    """The URL is shown with its credentials masked; sent back unchanged, the stored URL (and
    its secrets) is kept. A new URL is contacted before anything is saved: one that cannot be
    used is a form error. Rules are checked (rules.py) and stored normalized."""

    class Meta:
        model = Upstream
        fields = ["name", "url", "enabled", "rules"]
        formfield_callback = _formfield

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

    def clean_rules(self) -> dict:
        """Rules as they are stored (normalized); bad ones are shown, and nothing is saved."""
        try:
            return rules_from_json(self.cleaned_data["rules"]).to_json()
        except RulesError as exc:
            raise forms.ValidationError(str(exc)) from None


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

    def get_queryset(self, request):
        """Each upstream with its last run's id and state, in the list's one query."""
        last = SyncRun.objects.filter(upstream=OuterRef("pk")).order_by("-started", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_run_id=Subquery(last.values("pk")[:1]),
                last_run_state=Subquery(last.values("state")[:1]),
            )
        )

    @admin.display(description="Last run")
    def last_run(self, obj: Upstream) -> str:
        if obj.last_run_id is None:
            return "never"
        return f"#{obj.last_run_id} {SyncRun.State(obj.last_run_state).label}"

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


# A run in these states has workers writing to it: it is never deleted under them.
IN_PROGRESS = frozenset({SyncRun.State.PLANNING, SyncRun.State.RUNNING})


@admin.action(permissions=["delete"], description="Delete selected finished sync runs")
def delete_finished_runs(modeladmin, request, queryset):
    """Django's "delete selected" (its confirmation page too) for the finished runs among those
    selected; runs in progress are left, with a message."""
    in_progress = sorted(queryset.filter(state__in=IN_PROGRESS).values_list("pk", flat=True))
    if in_progress:
        modeladmin.message_user(
            request,
            "Runs in progress are not deleted: " + ", ".join(f"#{pk}" for pk in in_progress),
            messages.WARNING,
        )
    finished = queryset.exclude(state__in=IN_PROGRESS)
    if not finished.exists():
        return None
    return delete_selected(modeladmin, request, finished)


def duration_text(seconds: float) -> str:
    """Whole seconds, short: ``0:02:05``, ``1 d 3:04:05``."""
    days, rest = divmod(int(seconds), 86400)
    text = str(timedelta(seconds=rest))
    return f"{days} d {text}" if days else text


@admin.register(SyncRun)
class SyncRunAdmin(LargeTableAdmin):
    change_list_template = "admin/replication/syncrun/change_list.html"
    change_form_template = "admin/replication/syncrun/change_form.html"
    # Few, short columns: readable at 1280 px beside the filters. The trigger is a filter; the
    # end time is the start plus the duration; files and errors are on each run's page.
    list_display = (
        "id",
        "upstream",
        "state",
        "progress",
        "failed",
        "downloaded",
        "duration",
        "started",
    )
    list_display_links = ("id", "upstream")
    # A run every 10 minutes is 50,000 a year per upstream: filters and order by index (no
    # date hierarchy, whose year and month links read every run).
    list_filter = ("state", "trigger", "upstream", "started")
    list_select_related = ("upstream",)
    sortable_by = ("id", "started")
    # A run's page: its numbers, then the failed projects as a list (not the errors' JSON).
    fields = readonly_fields = (
        "upstream",
        "trigger",
        "state",
        "started",
        "updated",
        "finished",
        "duration",
        "serial_from",
        "serial_to",
        "progress",
        "projects_planned",
        "projects_done",
        "projects_failed",
        "projects_skipped",
        "projects_shadowed",
        "files_fetched",
        "bytes_fetched",
        "downloaded",
        "error",
        "failures",
        "shadowed_projects",
    )

    @admin.display(description="Progress")
    def progress(self, obj: SyncRun) -> str:
        return progress_bar(obj.projects_finished, obj.projects_planned)

    @admin.display(description="Failed", ordering="projects_failed")
    def failed(self, obj: SyncRun) -> int:
        return obj.projects_failed

    @admin.display(description="Downloaded", ordering="bytes_fetched")
    def downloaded(self, obj: SyncRun) -> str:
        return filesizeformat(obj.bytes_fetched)

    @admin.display(description="Duration")
    def duration(self, obj: SyncRun) -> str:
        """From start to finish; while in progress, so far."""
        if obj.state in IN_PROGRESS:
            return duration_text((timezone.now() - obj.started).total_seconds())
        if obj.finished is None:
            return "-"
        return duration_text((obj.finished - obj.started).total_seconds())

    @admin.display(description="Failed projects")
    def failures(self, obj: SyncRun) -> str:
        if not obj.errors:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li><b>{}</b>: {}</li>", ((e["project"], e["error"]) for e in obj.errors)
            ),
        )

    @admin.display(description="Shadowed projects")
    def shadowed_projects(self, obj: SyncRun) -> str:
        """Listed upstream, left alone: another source owns them here (Catalog → Projects)."""
        if not obj.shadowed:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><b>{}</b>: owned by {}</li>",
                ((e["project"], e["owner"]) for e in obj.shadowed),
            ),
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:  # the name its confirmation page posts back
            actions["delete_selected"] = (
                delete_finished_runs,
                "delete_selected",
                delete_finished_runs.short_description,
            )
        return actions

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.state in IN_PROGRESS:
            return False  # no Delete button, and the delete view refuses
        return super().has_delete_permission(request, obj)


# Sync states a search lists at most (a row per project and upstream: 700,000 for PyPI).
STATES_AT_MOST = 1_000


@admin.register(ProjectSyncState)
class ProjectSyncStateAdmin(LargeTableAdmin):
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
    list_select_related = ("upstream",)
    # A name's beginning (index sync_state_name_pattern), not words of the errors: a table of
    # a row per project of every upstream.
    search_fields = ("normalized_name",)
    search_help_text = (
        "Finds projects by name or its beginning, normalized (PEP 503: Foo.Bar finds foo-bar "
        "and foo-bar-baz)."
    )
    readonly_fields = [f.name for f in ProjectSyncState._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """The states whose name begins so, looked up first (at most ``STATES_AT_MOST``, the
        first in the table's order), then listed newest first: filtered while the list walks
        the table newest first, a name's beginning whose states are all old read most of it
        (``azure`` at PyPI's size: 0.4 s)."""
        prefix = canonicalize_name(search_term.strip())
        if not prefix:
            return queryset, False
        # In the table's order: each page of the list then finds the same states.
        found = queryset.filter(normalized_name__startswith=prefix).order_by("pk")
        ids = list(found.values_list("pk", flat=True)[: STATES_AT_MOST + 1])
        if len(ids) > STATES_AT_MOST:
            self.message_user(
                request,
                f"More than {STATES_AT_MOST:,} projects have a name beginning with {prefix!r}: "
                f"the first {STATES_AT_MOST:,} found are listed. Type more of the name.",
                messages.WARNING,
            )
        return queryset.filter(pk__in=ids[:STATES_AT_MOST]), False

    @admin.display(description="Last error")
    def short_error(self, obj: ProjectSyncState) -> str:
        return obj.last_error[:120]

    def has_add_permission(self, request) -> bool:
        return False
