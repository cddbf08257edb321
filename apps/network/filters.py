"""The query parameters of the mirrors' lists (django-filter): a bad value is a 400 naming it."""

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_countries import countries
from django_filters.fields import IsoDateTimeField

from .geography import CONTINENT_NAMES, continent_countries
from .models import Mirror, MirrorURL, Probe


def probe_good_q() -> Q:
    """health.probe_is_good as a query: reached, 2xx, no error, no integrity finding."""
    return Q(reachable=True, http_status__gte=200, http_status__lt=300, error="") & ~Q(
        integrity_ok=False
    )


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: PostgreSQL refuses offsets past ±15:59, which ISO allows
    (``+16:34``), and a time near year 1 or 9999 may leave the calendar once in UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("This time is out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class MirrorFilter(django_filters.FilterSet):
    country = django_filters.ChoiceFilter(
        choices=lambda: list(countries),
        method="filter_country",
        help_text="ISO 3166-1 alpha-2 code of the mirror's country (DE).",
    )
    continent = django_filters.ChoiceFilter(
        choices=sorted(CONTINENT_NAMES.items()),
        method="filter_continent",
        help_text="Continent code of the mirror's country (EU).",
    )
    protocol = django_filters.ChoiceFilter(
        choices=MirrorURL.Protocol.choices,
        method="filter_protocol",
        help_text="Mirrors with an active URL of this protocol.",
    )
    active = django_filters.BooleanFilter(help_text="Active (offered) or disabled mirrors.")

    class Meta:
        model = Mirror
        fields = ["country", "continent", "protocol", "active"]

    def filter_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(country=value)

    def filter_continent(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(country__in=continent_countries(value))

    def filter_protocol(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        urls = MirrorURL.objects.filter(protocol=value, active=True).values("mirror_id")
        return queryset.filter(pk__in=urls)


class ProbeFilter(django_filters.FilterSet):
    since = UtcDateTimeFilter(
        field_name="checked", lookup_expr="gte", help_text="Probes checked at or after (ISO 8601)."
    )
    until = UtcDateTimeFilter(
        field_name="checked", lookup_expr="lt", help_text="Probes checked before (ISO 8601)."
    )
    ok = django_filters.BooleanFilter(
        method="filter_ok", help_text="Good probes (reached, 2xx, no error or finding) or bad."
    )
    url = django_filters.CharFilter(
        field_name="url__url", help_text="The probes of one of the mirror's base URLs."
    )

    class Meta:
        model = Probe
        fields = ["since", "until", "ok", "url"]

    def filter_ok(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(probe_good_q()) if value else queryset.exclude(probe_good_q())
