"""The network in the admin: mirrors with their URLs and tokens (a token is shown once, when
issued), probe locations, the network settings, and read-only probes and reports."""

from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse

from .models import (
    Mirror,
    MirrorToken,
    MirrorURL,
    NetworkSettings,
    Probe,
    ProbeLocation,
    StatusReport,
)
from .selectors import network_settings
from .services import (
    mirror_disable,
    mirror_enable,
    mirror_token_issue,
    mirror_token_revoke,
    mirror_token_rotate,
)


def _show_token_once(request, mirror: Mirror, token: str) -> None:
    messages.warning(
        request,
        f"New token of mirror {mirror.name}: {token} — shown this once and stored only as a "
        "hash. Set it as PYPIMIRROR_HUB_TOKEN on the mirror.",
    )


class MirrorURLInline(admin.TabularInline):
    model = MirrorURL
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 1
    fields = ("url", "protocol", "active", "created")
    readonly_fields = ("protocol", "created")


class MirrorTokenInline(admin.TabularInline):
    """The mirror's tokens: never the token itself (not kept), only its first characters."""

    model = MirrorToken
    extra = 0
    can_delete = False
    fields = ("prefix", "created", "last_used", "revoked")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # issued by the admin's actions, which show the token once


@admin.register(Mirror)
class MirrorAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "country",
        "continent",
        "tier",
        "follows",
        "public",
        "active",
        "disabled_reason",
        "maintenance_until",
    )
    list_filter = ("active", "public", "tier", "country")
    search_fields = ("name", "operator", "admin_email", "urls__url")
    list_select_related = ("follows_mirror",)
    inlines = [MirrorURLInline, MirrorTokenInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("consecutive_failures", "consecutive_successes", "created")
    actions = ["rotate_token", "revoke_tokens", "disable", "enable"]
    fieldsets = [
        (None, {"fields": ("name", "operator", "admin_email", "country", "tier", "notes")}),
        ("Follows (neither: this hub)", {"fields": ("follows_mirror", "follows_url")}),
        (
            "State",
            {
                "fields": (
                    "public",
                    "active",
                    "disabled_by",
                    "disabled_reason",
                    "disabled_at",
                    "maintenance_until",
                    "maintenance_note",
                    "consecutive_failures",
                    "consecutive_successes",
                    "created",
                )
            },
        ),
    ]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # a new mirror gets its first token, shown once
            _, token = mirror_token_issue(mirror=obj)
            _show_token_once(request, obj, token)

    @admin.action(permissions=["change"], description="Rotate token (the new one shown once)")
    def rotate_token(self, request, queryset) -> None:
        for mirror in queryset:
            _, token = mirror_token_rotate(mirror=mirror)
            _show_token_once(request, mirror, token)

    @admin.action(permissions=["change"], description="Revoke every token")
    def revoke_tokens(self, request, queryset) -> None:
        tokens = MirrorToken.objects.filter(mirror__in=queryset, revoked__isnull=True)
        count = 0
        for token in tokens:
            mirror_token_revoke(token=token)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Disable (staff: stays so until enabled)")
    def disable(self, request, queryset) -> None:
        mirrors = list(queryset.filter(active=True))
        for mirror in mirrors:
            mirror_disable(mirror=mirror, reason=f"Disabled by {request.user} in the admin.")
        self.message_user(request, f"{len(mirrors)} mirror(s) disabled.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Enable")
    def enable(self, request, queryset) -> None:
        mirrors = list(queryset.filter(active=False))
        for mirror in mirrors:
            mirror_enable(mirror=mirror)
        self.message_user(request, f"{len(mirrors)} mirror(s) enabled.", messages.SUCCESS)


@admin.register(ProbeLocation)
class ProbeLocationAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "is_hub")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the network's services only (probes, reports): staff look."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "url",
        "checked",
        "location",
        "reachable",
        "http_status",
        "duration",
        "lag_seconds",
        "lag_serials",
        "integrity_ok",
        "error",
    )
    list_filter = ("reachable", "integrity_ok", "location", "url__mirror")
    list_select_related = ("url", "location")
    date_hierarchy = "checked"


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = (
        "mirror",
        "received",
        "state",
        "serial",
        "software",
        "version",
        "free_disk_bytes",
        "maintenance_until",
    )
    list_filter = ("state", "mirror")
    list_select_related = ("mirror",)
    date_hierarchy = "received"


@admin.register(NetworkSettings)
class NetworkSettingsAdmin(admin.ModelAdmin):
    """One row: the list leads straight to it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        row = network_settings()
        return HttpResponseRedirect(reverse("admin:network_networksettings_change", args=[row.pk]))
