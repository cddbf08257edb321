"""Takedowns in the admin: staff take a project, a release or a file down with a reason (the
add form), and lift it (an action); both through the takedown services (takedowns.py), who did
it recorded from the logged-in user. Nothing of a takedown is edited or deleted afterwards:
its history is the record of who took what down, when and why."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .models import Takedown
from .takedowns import TakedownError, takedown_check, takedown_create, takedown_lift

TAKEDOWNS_SHOWN = 20  # on a project's page; all of them in the Takedowns list


class TakedownAddForm(forms.ModelForm):
    """What to take down, named as on the command line: a project, and optionally one release
    or one file of it. Checked against the catalog before anything is taken down."""

    project_name = forms.CharField(
        label="Project", max_length=255, help_text="Its name (any spelling: Foo.Bar, foo-bar)."
    )
    release = forms.CharField(
        required=False, max_length=255, help_text="Only this release (its version)."
    )
    file = forms.CharField(required=False, max_length=255, help_text="Only this file (filename).")

    class Meta:
        model = Takedown
        fields = ["reason"]
        help_texts = {"reason": "Why: kept with the takedown (a legal request, malware, ...)."}

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            takedown_check(
                name=data["project_name"],
                version=data.get("release") or None,
                filename=data.get("file") or None,
                reason=data.get("reason", ""),
            )
        except TakedownError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class StandingFilter(admin.SimpleListFilter):
    title = "standing"
    parameter_name = "standing"

    def lookups(self, request, model_admin):
        return [("yes", "Standing"), ("no", "Lifted")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(lifted_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Takedown)
class TakedownAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "scope",
        "reason",
        "created_by",
        "created_at",
        "standing",
        "lifted_by",
        "lifted_at",
    )
    list_filter = (StandingFilter, "scope")
    search_fields = ("project__normalized_name", "filename", "version")
    list_select_related = ("project",)
    ordering = ("-created_at", "-id")
    actions = ["lift"]
    readonly_fields = (
        "project",
        "scope",
        "version",
        "filename",
        "reason",
        "created_by",
        "created_at",
        "lifted_by",
        "lifted_at",
        "held_files",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TakedownAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project_name", "release", "file", "reason"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the history stays: lift it instead

    @admin.display(boolean=True, description="Standing")
    def standing(self, obj: Takedown) -> bool:
        return obj.standing

    @admin.display(description="Files held (removed, their blobs kept for a lift)")
    def held_files(self, obj: Takedown) -> str:
        """Each with its blob's path in the store (where the bytes are, should they have to
        go: deploy/README.md)."""
        rows = obj.files.values_list("filename", "blob_path")
        return format_html_join(", ", "{} (store/{})", rows) or "-"

    def save_form(self, request, form, change):
        """The takedown is made by the service (removal, journal, who), not saved from the
        form: the object returned is the one it made."""
        if change:
            return form.instance
        data = form.cleaned_data
        return takedown_create(
            name=data["project_name"],
            version=data.get("release") or None,
            filename=data.get("file") or None,
            reason=data["reason"],
            actor=request.user.get_username(),
        )

    def save_model(self, request, obj, form, change) -> None:
        pass  # saved by takedown_create (save_form)

    def save_related(self, request, form, formsets, change) -> None:
        pass

    @admin.action(permissions=["change"], description="Lift the selected takedowns")
    def lift(self, request, queryset) -> None:
        for takedown in queryset:
            try:
                lifted = takedown_lift(takedown_id=takedown.pk, actor=request.user.get_username())
            except TakedownError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            note = f"Lifted the takedown of {takedown}."
            if lifted.restored:
                note += f" Served again: {', '.join(lifted.restored)}."
            if lifted.left:
                note += f" Left to the project's next sync: {', '.join(lifted.left)}."
            self.message_user(request, note, messages.SUCCESS)


def project_takedowns_html(project) -> str:
    """A project's takedowns for its admin page, newest first (standing or lifted), each a link
    to its page, then a link to take it (or a part of it) down: one query."""
    rows = list(project.takedowns.order_by("-created_at", "-id")[:TAKEDOWNS_SHOWN])
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a>: {} ({}, {}, {})</li>',
        (
            (
                reverse("admin:catalog_takedown_change", args=[t.pk]),
                t.get_scope_display() + ("" if t.scope == t.Scope.PROJECT else f" {t}"),
                t.reason,
                t.created_by,
                t.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "standing" if t.standing else "lifted",
            )
            for t in rows
        ),
    )
    add = format_html(
        '<a href="{}?project_name={}">Take down this project, a release or a file…</a>',
        reverse("admin:catalog_takedown_add"),
        project.normalized_name,
    )
    return format_html("<ul>{}</ul>{}", items, add) if rows else add
