"""The mirror network as a hub knows it: the mirrors, their URLs and tokens, where probes run
from, each probe of a URL, and what each mirror says of itself (reports, which are hints)."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from .geography import CONTINENT_NAMES, country_continent

# /api/v1/mirrors/<name>/ would be hidden by /api/v1/mirrors/best/.
RESERVED_NAMES = frozenset({"best"})


class Mirror(models.Model):
    """One mirror of the network, tier 1 when it follows this hub or an outside index."""

    class DisabledBy(models.TextChoices):
        NOBODY = "", "Not disabled"
        PROBES = "probes", "Probes (failed in a row)"
        STAFF = "staff", "Staff"

    name = models.SlugField(max_length=100, unique=True)
    operator = models.CharField(max_length=200, blank=True, help_text="Who runs it.")
    admin_email = models.EmailField(
        blank=True, help_text="Told when the mirror is disabled or enabled again."
    )
    country = CountryField(blank=True, help_text="Where it serves from (ISO 3166-1 alpha-2).")
    tier = models.PositiveSmallIntegerField(
        default=1, help_text="1 follows this hub or an outside index; 2 follows a tier 1 mirror..."
    )
    # What it follows: another registered mirror, or an outside index (follows_url), or, with
    # neither, this hub. Never both (the constraint below).
    follows_mirror = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followers",
        help_text="The registered mirror it syncs from.",
    )
    follows_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="The outside index it syncs from (https://pypi.org), when not a mirror here.",
    )
    public = models.BooleanField(
        default=True, help_text="Listed to everybody; a private mirror is shown to staff only."
    )
    active = models.BooleanField(default=True, help_text="Probed and offered to clients.")
    disabled_by = models.CharField(
        max_length=8, choices=DisabledBy, default=DisabledBy.NOBODY, blank=True
    )
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Maintenance: until then failed probes neither disable it nor good ones enable it.
    maintenance_until = models.DateTimeField(null=True, blank=True)
    maintenance_note = models.CharField(max_length=500, blank=True)
    # Probes of the mirror in a row that failed / succeeded (health.streaks_after): the rule
    # that disables and enables it reads them (health.availability_decision).
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    consecutive_successes = models.PositiveIntegerField(default=0, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(follows_mirror__isnull=False) & ~models.Q(follows_url="")),
                name="network_mirror_follows_one_thing",
                violation_error_message="A mirror follows a registered mirror or a URL, not both.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.name in RESERVED_NAMES:
            raise ValidationError(
                {"name": f"{self.name!r} is a word of the API's URLs: choose another."}
            )
        if self.follows_mirror_id and self.follows_url:
            raise ValidationError("A mirror follows a registered mirror or a URL, not both.")
        if self.follows_mirror_id and self.follows_mirror_id == self.pk:
            raise ValidationError({"follows_mirror": "A mirror cannot follow itself."})

    @property
    def continent(self) -> str:
        """The continent code of its country (``EU``), ``""`` without a country."""
        return country_continent(str(self.country))

    @property
    def continent_name(self) -> str:
        return CONTINENT_NAMES.get(self.continent, "")

    @property
    def follows(self) -> str:
        """What it syncs from, in words: a mirror's name, a URL, or ``this hub``."""
        if self.follows_mirror_id:
            return self.follows_mirror.name
        return self.follows_url or "this hub"

    def in_maintenance(self, now=None) -> bool:
        return bool(self.maintenance_until and self.maintenance_until > (now or timezone.now()))


def validate_base_url(value: str) -> None:
    """An http(s) URL with a host and no query, fragment or credentials: a mirror's base."""
    URLValidator(schemes=["http", "https"])(value)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValidationError("A mirror's base URL has no query or fragment.", code="invalid")
    if parts.username or parts.password:
        raise ValidationError("A mirror's base URL carries no credentials.", code="invalid")


def normalize_base_url(url: str) -> str:
    """One spelling per base URL: scheme and host in lower case, one trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") + "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


class MirrorURL(models.Model):
    """One base URL a mirror serves the index under (``/simple/``, ``/packages/`` below it)."""

    class Protocol(models.TextChoices):
        HTTP = "http", "HTTP"
        HTTPS = "https", "HTTPS"

    mirror = models.ForeignKey(Mirror, on_delete=models.CASCADE, related_name="urls")
    url = models.URLField(
        "base URL",
        max_length=500,
        unique=True,
        validators=[validate_base_url],
        help_text="Where its /simple/ and /packages/ are below: https://mirror.example.org/pypi/",
    )
    protocol = models.CharField(max_length=5, choices=Protocol, editable=False)
    active = models.BooleanField(default=True, help_text="Probed and offered to clients.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mirror__name", "url"]
        verbose_name = "mirror URL"

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        """The URL in its one spelling; the protocol from its scheme."""
        self.url = normalize_base_url(self.url)
        self.protocol = urlsplit(self.url).scheme
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "url" in update_fields:
            kwargs["update_fields"] = {*update_fields, "protocol"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The URL in its one spelling before uniqueness is checked."""
        if self.url:
            self.url = normalize_base_url(self.url)


class MirrorToken(models.Model):
    """A secret a mirror proves itself with (its reports). Only its sha256 is kept: the token is
    shown once, when issued (services.mirror_token_issue)."""

    mirror = models.ForeignKey(Mirror, on_delete=models.CASCADE, related_name="tokens")
    # The first characters of the token, to tell tokens apart in the admin; not a secret.
    prefix = models.CharField(max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["mirror", "revoked"], name="network_token_mirror")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.mirror})"

    @property
    def is_active(self) -> bool:
        return self.revoked is None


class ProbeLocation(models.Model):
    """Where probes run from: this hub (created by a migration), or another vantage point."""

    name = models.SlugField(max_length=100, unique=True)
    country = CountryField(blank=True)
    is_hub = models.BooleanField(default=False, help_text="Probes run by this hub itself.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_hub"], condition=models.Q(is_hub=True), name="network_one_hub_location"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Probe(models.Model):
    """One probe of one mirror URL from one location: the truth about the mirror."""

    url = models.ForeignKey(MirrorURL, on_delete=models.CASCADE, related_name="probes")
    location = models.ForeignKey(ProbeLocation, on_delete=models.PROTECT, related_name="probes")
    checked = models.DateTimeField(default=timezone.now, db_index=True)
    reachable = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds the probe took.")
    last_modified = models.DateTimeField(
        null=True, blank=True, help_text="The mirror's /last-modified, as it said."
    )
    lag_seconds = models.FloatField(null=True, blank=True)
    mirror_serial = models.BigIntegerField(null=True, blank=True)
    lag_serials = models.BigIntegerField(null=True, blank=True, help_text="Ahead is 0, not lag.")
    integrity_ok = models.BooleanField(null=True, blank=True, help_text="Empty: not sampled.")
    integrity_findings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked"]
        indexes = [models.Index(fields=["url", "-checked"], name="network_probe_url_checked")]

    def __str__(self) -> str:
        return f"{self.url} at {self.checked:%Y-%m-%d %H:%M:%S}"


class StatusReport(models.Model):
    """What a mirror says of itself (with its token): a hint, never the truth of a probe."""

    class State(models.TextChoices):
        SYNCING = "syncing", "Syncing"
        IDLE = "idle", "Idle"
        FAILED = "failed", "Failed"
        PAUSED = "paused", "Paused"

    mirror = models.ForeignKey(Mirror, on_delete=models.CASCADE, related_name="reports")
    received = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(max_length=8, choices=State)
    serial = models.BigIntegerField(null=True, blank=True, help_text="The serial it reached.")
    # A pypimirror node numbers its own serials (network.md, "Serials across tiers"): ``serial``
    # is its own, what its followers see; this is the serial of what it follows it reached.
    upstream_serial = models.BigIntegerField(
        null=True, blank=True, help_text="The serial of what it follows that it reached."
    )
    software = models.CharField(max_length=100, blank=True)
    version = models.CharField(max_length=100, blank=True)
    free_disk_bytes = models.BigIntegerField(null=True, blank=True)
    maintenance_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received"]
        indexes = [models.Index(fields=["mirror", "-received"], name="network_report_mirror")]

    def __str__(self) -> str:
        return f"{self.mirror}: {self.state} at {self.received:%Y-%m-%d %H:%M:%S}"


class NetworkSettings(models.Model):
    """The network's settings staff edit in the admin: one row (selectors.network_settings)."""

    probe_retention_days = models.PositiveIntegerField(
        help_text="Probes older than this are deleted (daily)."
    )
    report_retention_days = models.PositiveIntegerField(
        help_text="Status reports older than this are deleted (daily); each mirror's latest "
        "is kept."
    )

    class Meta:
        verbose_name = verbose_name_plural = "network settings"

    def __str__(self) -> str:
        return "Network settings"
