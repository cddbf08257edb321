"""What the mirrors' API says, field by field (the OpenAPI schema is read from here)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .health import Health, probe_is_good
from .models import Mirror, MirrorURL, Probe, StatusReport
from .selection import Reason, Scope
from .status import mirror_health_of


class FiguresSerializer(serializers.Serializer):
    """A URL's rolling 24 h figures (health.figures); seconds throughout, null when unknown."""

    probes = serializers.IntegerField(help_text="Probes in the window.")
    good = serializers.IntegerField(help_text="Good probes among them.")
    completion = serializers.FloatField(allow_null=True, help_text="Share of good probes, 0..1.")
    lag_seconds = serializers.FloatField(allow_null=True, help_text="Mean lag of good probes.")
    lag_serials = serializers.FloatField(allow_null=True, help_text="Mean lag in serials.")
    duration_mean = serializers.FloatField(allow_null=True)
    duration_sd = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(
        allow_null=True,
        help_text="(lag + duration mean + deviation) / completion², seconds: lower is better.",
    )


class UrlHealthSerializer(serializers.Serializer):
    """One of a mirror's URLs with its health now (status.UrlStatus)."""

    url = serializers.URLField()
    protocol = serializers.ChoiceField(choices=MirrorURL.Protocol.choices)
    active = serializers.BooleanField(source="url_active")
    health = serializers.ChoiceField(choices=[h.value for h in Health])
    last_probe = serializers.DateTimeField(allow_null=True)
    last_probe_ok = serializers.BooleanField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    synced = serializers.DateTimeField(
        allow_null=True, help_text="When its content was last current, by its latest good probe."
    )
    figures = FiguresSerializer()


class StatusReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusReport
        fields = [
            "received",
            "state",
            "serial",
            "software",
            "version",
            "free_disk_bytes",
            "maintenance_until",
            "upstream_serial",
        ]
        read_only_fields = ["received"]
        extra_kwargs = {
            "serial": {"min_value": 0},
            "free_disk_bytes": {"min_value": 0},
            "upstream_serial": {"min_value": 0},
        }


class MirrorSerializer(serializers.ModelSerializer):
    """A mirror with its URLs' health (context ``url_statuses``: status.UrlStatus by URL id)
    and its latest report (context ``reports``: by id)."""

    country = serializers.CharField(source="country.code", read_only=True)
    continent = serializers.CharField(read_only=True)
    follows = serializers.CharField(read_only=True)
    health = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    latest_report = serializers.SerializerMethodField()

    class Meta:
        model = Mirror
        fields = [
            "name",
            "operator",
            "country",
            "continent",
            "tier",
            "follows",
            "public",
            "active",
            "disabled_reason",
            "maintenance_until",
            "health",
            "urls",
            "latest_report",
        ]

    def _statuses(self, mirror: Mirror) -> list:
        statuses = self.context.get("url_statuses", {})
        return [statuses[url.pk] for url in mirror.urls.all() if url.pk in statuses]

    @extend_schema_field(serializers.ChoiceField(choices=[h.value for h in Health]))
    def get_health(self, mirror: Mirror) -> str:
        return str(mirror_health_of(self._statuses(mirror)))

    @extend_schema_field(UrlHealthSerializer(many=True))
    def get_urls(self, mirror: Mirror) -> list[dict]:
        return UrlHealthSerializer(self._statuses(mirror), many=True).data

    @extend_schema_field(StatusReportSerializer(allow_null=True))
    def get_latest_report(self, mirror: Mirror) -> dict | None:
        report = self.context.get("reports", {}).get(getattr(mirror, "latest_report_id", None))
        return StatusReportSerializer(report).data if report else None


class ProbeSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="url.url")
    location = serializers.CharField(source="location.name")
    ok = serializers.SerializerMethodField(help_text="Reached, 2xx, no error, no finding.")

    class Meta:
        model = Probe
        fields = [
            "checked",
            "url",
            "location",
            "ok",
            "reachable",
            "http_status",
            "duration",
            "last_modified",
            "lag_seconds",
            "mirror_serial",
            "lag_serials",
            "integrity_ok",
            "integrity_findings",
            "error",
        ]

    def get_ok(self, probe: Probe) -> bool:
        return probe_is_good(probe)


class BestQuerySerializer(serializers.Serializer):
    """The query of ``/api/v1/mirrors/best/``."""

    country = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="ISO 3166-1 alpha-2 code of the client's country (DE); none: anywhere.",
    )
    protocol = serializers.ChoiceField(
        choices=MirrorURL.Protocol.choices, required=False, help_text="http or https; none: both."
    )
    trace = serializers.BooleanField(
        required=False, default=False, help_text="Also list every mirror URL left out, and why."
    )

    def validate_country(self, value: str) -> str:
        from django_countries import countries

        code = value.strip().upper()
        if code and code not in countries:
            raise serializers.ValidationError(
                f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as DE or JP)."
            )
        return code


class BestMirrorSerializer(serializers.Serializer):
    name = serializers.CharField(source="status.mirror")
    url = serializers.URLField(source="status.url")
    protocol = serializers.CharField(source="status.protocol")
    country = serializers.CharField(source="status.country")
    continent = serializers.CharField(source="status.continent")
    tier = serializers.IntegerField(source="status.tier")
    scope = serializers.ChoiceField(
        choices=[s.value for s in Scope], help_text="Where it was found: country, continent, world."
    )
    weight = serializers.FloatField(help_text="Its weight in the shuffle: 1 / (1 + score).")
    synced = serializers.DateTimeField(source="status.synced", allow_null=True)
    figures = FiguresSerializer(source="status.figures")


class ExclusionSerializer(serializers.Serializer):
    name = serializers.CharField(source="status.mirror")
    url = serializers.URLField(source="status.url")
    reason = serializers.ChoiceField(choices=[r.value for r in Reason])
    detail = serializers.CharField()


class BestSerializer(serializers.Serializer):
    country = serializers.CharField(allow_blank=True)
    continent = serializers.CharField(allow_blank=True)
    protocol = serializers.CharField(allow_null=True)
    scope = serializers.ChoiceField(
        choices=[s.value for s in Scope], help_text="How far the search had to widen."
    )
    mirrors = BestMirrorSerializer(many=True, help_text="In the order to try them.")
    excluded = ExclusionSerializer(
        many=True, required=False, help_text="With ?trace=1: every mirror URL left out, and why."
    )


class StatusUrlSerializer(FiguresSerializer):
    url = serializers.URLField()
    protocol = serializers.CharField()
    mirror = serializers.CharField()
    country = serializers.CharField(allow_blank=True)
    continent = serializers.CharField(allow_blank=True)
    tier = serializers.IntegerField()
    active = serializers.BooleanField(help_text="The mirror and this URL are active.")
    disabled_reason = serializers.CharField(allow_blank=True)
    in_maintenance = serializers.BooleanField()
    health = serializers.ChoiceField(choices=[h.value for h in Health])
    last_probe = serializers.DateTimeField(allow_null=True)
    last_probe_ok = serializers.BooleanField(allow_null=True)
    synced = serializers.DateTimeField(allow_null=True)


class NetworkStatusSerializer(serializers.Serializer):
    """The network's status document (status.network_status_document), version 1."""

    version = serializers.IntegerField(help_text="Changes when a field changes meaning.")
    generated = serializers.DateTimeField()
    cutoff = serializers.IntegerField(help_text="Seconds of probes the figures cover (24 h).")
    last_check = serializers.DateTimeField(allow_null=True, help_text="The newest probe.")
    num_checks = serializers.IntegerField(help_text="Most probes of one URL in the window.")
    check_frequency = serializers.FloatField(
        allow_null=True, help_text="Mean seconds between two probes of one URL."
    )
    urls = StatusUrlSerializer(many=True)
