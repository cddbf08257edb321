"""The network in the admin: mirrors with their URLs and tokens (a token is shown once, when
issued), probe locations, the network settings, and read-only probes and reports."""

from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django_countries.filters import CountryFilter

from pypimirror.admin_lists import ReadOnlyAdminMixin, cut_to_fit

from .geography import CONTINENT_NAMES, continent_countries, country_continent
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


class ContinentFilter(admin.SimpleListFilter):
    """The continents the mirrors are on (their region, derived from their countries)."""

    title = "continent"
    parameter_name = "continent"

    def lookups(self, request, model_admin):
        countries = Mirror.objects.exclude(country="").values_list("country", flat=True)
        present = {country_continent(c) for c in countries.distinct()}
        return [(code, name) for code, name in CONTINENT_NAMES.items() if code in present]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(country__in=continent_countries(self.value()))
        return queryset


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
        "mirror_name",
        "where",
        "tier",
        "follows_short",
        "public",
        "active",
        "why_disabled",
        "maintenance",
    )
    list_display_links = ("mirror_name",)
    list_filter = ("active", "public", "tier", ContinentFilter, ("country", CountryFilter))
    search_fields = ("name", "operator", "admin_email", "urls__url")
    list_select_related = ("follows_mirror",)
    inlines = [MirrorURLInline, MirrorTokenInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("consecutive_failures", "consecutive_successes", "created")
    actions = ["probe_now", "rotate_token", "revoke_tokens", "disable", "enable"]
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

    @admin.display(description="Name", ordering="name")
    def mirror_name(self, obj: Mirror) -> str:
        return format_html('<span class="nowrap">{}</span>', obj.name)

    @admin.display(description="Country", ordering="country")
    def where(self, obj: Mirror) -> str:
        if not obj.country:
            return "-"
        return format_html('<span title="{}">{} ({})</span>', obj.country.name, obj.country.code,
                           obj.continent)  # fmt: skip

    @admin.display(description="Maintenance until", ordering="maintenance_until")
    def maintenance(self, obj: Mirror) -> str:
        if not obj.in_maintenance():
            return "-"
        return format_html(
            '<span class="nowrap">{}</span>', f"{obj.maintenance_until:%Y-%m-%d %H:%M}"
        )

    @admin.display(description="Follows")
    def follows_short(self, obj: Mirror) -> str:
        return cut_to_fit(obj.follows.split("://", 1)[-1], 24)

    @admin.display(description="Disabled because", ordering="disabled_reason")
    def why_disabled(self, obj: Mirror) -> str:
        return cut_to_fit(obj.disabled_reason, 32)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # a new mirror gets its first token, shown once
            _, token = mirror_token_issue(mirror=obj)
            _show_token_once(request, obj, token)

    @admin.action(permissions=["change"], description="Probe now")
    def probe_now(self, request, queryset) -> None:
        """Probe the selected mirrors at once (in this request, bounded by the probe timeout),
        keep the probes and apply the disable / enable rule, as the hourly round does."""
        from .probe_runs import mirrors_probe, probe_problem

        names = list(queryset.values_list("name", flat=True))
        outcomes = mirrors_probe(names=names)
        if not outcomes:
            self.message_user(request, "No active URL to probe.", messages.WARNING)
        for outcome in outcomes:
            probe = outcome.probe
            lag = "-" if probe.lag_serials is None else probe.lag_serials
            seconds = "-" if probe.lag_seconds is None else f"{probe.lag_seconds:.0f}"
            took = "-" if probe.duration is None else f"{probe.duration:.2f}"
            said = f"lag {seconds} s, {lag} serial(s), took {took} s"
            if outcome.decision != "keep":
                said += f"; mirror {outcome.decision}d"
            if outcome.good:
                self.message_user(request, f"{outcome.url.url}: good ({said}).", messages.SUCCESS)
            else:
                self.message_user(request, f"{probe_problem(probe)} ({said}).", messages.ERROR)

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


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the network's services only (probes, reports): staff look."""


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "mirror_url",
        "checked",
        "answer",
        "seconds",
        "lag",
        "serials",
        "sound",
        "error_short",
    )
    list_filter = ("reachable", "integrity_ok", "location", "url__mirror")
    list_select_related = ("url",)
    date_hierarchy = "checked"

    @admin.display(description="URL", ordering="url__url")
    def mirror_url(self, obj: Probe) -> str:
        return cut_to_fit(obj.url.url.split("://", 1)[-1], 28)

    @admin.display(description="Answer", ordering="http_status")
    def answer(self, obj: Probe) -> str:
        if not obj.reachable:
            return "unreachable"
        return str(obj.http_status) if obj.http_status else "-"

    @admin.display(description="Lag (serials)", ordering="lag_serials")
    def serials(self, obj: Probe) -> str:
        return "-" if obj.lag_serials is None else str(obj.lag_serials)

    @admin.display(description="Sound", boolean=True, ordering="integrity_ok")
    def sound(self, obj: Probe) -> bool | None:
        """The integrity sample's verdict (empty: none was taken)."""
        return obj.integrity_ok

    @admin.display(description="Took (s)", ordering="duration")
    def seconds(self, obj: Probe) -> str:
        return "-" if obj.duration is None else f"{obj.duration:.2f}"

    @admin.display(description="Lag (s)", ordering="lag_seconds")
    def lag(self, obj: Probe) -> str:
        return "-" if obj.lag_seconds is None else f"{obj.lag_seconds:.0f}"

    @admin.display(description="Error", ordering="error")
    def error_short(self, obj: Probe) -> str:
        return cut_to_fit(obj.error, 20)


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = (
        "mirror",
        "received",
        "state",
        "serial",
        "software_version",
        "free_disk",
        "maintenance",
    )
    list_filter = ("state", "mirror")
    list_select_related = ("mirror",)
    date_hierarchy = "received"

    @admin.display(description="Maintenance until", ordering="maintenance_until")
    def maintenance(self, obj: StatusReport) -> str:
        if obj.maintenance_until is None:
            return "-"
        return format_html(
            '<span class="nowrap">{}</span>', f"{obj.maintenance_until:%Y-%m-%d %H:%M}"
        )

    @admin.display(description="Software")
    def software_version(self, obj: StatusReport) -> str:
        return cut_to_fit(f"{obj.software} {obj.version}".strip(), 30)

    @admin.display(description="Free disk", ordering="free_disk_bytes")
    def free_disk(self, obj: StatusReport) -> str:
        return "-" if obj.free_disk_bytes is None else filesizeformat(obj.free_disk_bytes)


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
