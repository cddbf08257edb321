"""Writes of the mirror network: mirrors, their URLs and tokens, reports, and pruning."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .health import Availability, availability_decision, streaks_after
from .models import (
    Mirror,
    MirrorToken,
    MirrorURL,
    Probe,
    ProbeLocation,
    StatusReport,
    normalize_base_url,
    validate_base_url,
)
from .probe_checks import Observation
from .selectors import network_settings
from .tokens import SHOWN_PREFIX_LENGTH, token_digest, token_looks_valid, token_matches, token_new


@transaction.atomic
def mirror_create(
    *,
    name: str,
    url: str,
    country: str = "",
    admin_email: str = "",
    operator: str = "",
    follows_mirror: Mirror | None = None,
    follows_url: str = "",
    public: bool = True,
    notes: str = "",
) -> Mirror:
    """A new mirror with its first base URL. Raises ValidationError for a bad or taken name,
    country, e-mail or URL; nothing is saved then.

    Its tier is one more than the mirror it follows, 1 when it follows this hub or an outside
    index.
    """
    mirror = Mirror(
        name=name,
        operator=operator,
        admin_email=admin_email,
        country=country.upper(),
        follows_mirror=follows_mirror,
        follows_url=follows_url,
        tier=follows_mirror.tier + 1 if follows_mirror else 1,
        public=public,
        notes=notes,
    )
    mirror.full_clean()
    mirror.save()
    mirror_url_add(mirror=mirror, url=url)
    return mirror


def mirror_url_add(*, mirror: Mirror, url: str) -> MirrorURL:
    """Another base URL of the mirror: http(s), no query or credentials, kept in one spelling
    (normalize_base_url), unique in the network. Raises ValidationError."""
    url = url.strip()
    try:
        validate_base_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None
    mirror_url = MirrorURL(mirror=mirror, url=normalize_base_url(url))
    mirror_url.full_clean(exclude=["mirror"])
    mirror_url.save()
    return mirror_url


def mirror_disable(*, mirror: Mirror, reason: str, by: str = Mirror.DisabledBy.STAFF) -> None:
    """Take the mirror out of the network (not offered, and its disabling said why)."""
    mirror.active = False
    mirror.disabled_by = by
    mirror.disabled_reason = reason
    mirror.disabled_at = timezone.now()
    mirror.save(update_fields=["active", "disabled_by", "disabled_reason", "disabled_at"])


def mirror_enable(*, mirror: Mirror) -> None:
    """Bring the mirror back; its probe streaks start over."""
    mirror.active = True
    mirror.disabled_by = Mirror.DisabledBy.NOBODY
    mirror.disabled_reason = ""
    mirror.disabled_at = None
    mirror.consecutive_failures = mirror.consecutive_successes = 0
    mirror.save(
        update_fields=[
            "active",
            "disabled_by",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "consecutive_successes",
        ]
    )


@transaction.atomic
def mirror_probe_outcome_record(*, mirror: Mirror, good: bool, error: str = "") -> Availability:
    """Count one more probe of the mirror (good or failed) and apply the rule of
    health.availability_decision: disabled after PYPIMIRROR_NETWORK_DISABLE_AFTER failed probes
    in a row, with the last error as the reason; enabled after as many good ones if the probes
    had disabled it. What it did is returned (telling the mirror's admin is the caller's part).

    Only probes call this: a report never does.
    """
    mirror = Mirror.objects.select_for_update().get(pk=mirror.pk)
    mirror.consecutive_failures, mirror.consecutive_successes = streaks_after(
        failures=mirror.consecutive_failures, successes=mirror.consecutive_successes, good=good
    )
    mirror.save(update_fields=["consecutive_failures", "consecutive_successes"])
    after = settings.PYPIMIRROR_NETWORK_DISABLE_AFTER
    decision = availability_decision(
        active=mirror.active,
        disabled_by=mirror.disabled_by,
        failures=mirror.consecutive_failures,
        successes=mirror.consecutive_successes,
        in_maintenance=mirror.in_maintenance(),
        after=after,
    )
    if decision is Availability.DISABLE:
        reason = f"{mirror.consecutive_failures} probes in a row failed"
        mirror_disable(
            mirror=mirror,
            reason=f"{reason}: {error}" if error else reason,
            by=Mirror.DisabledBy.PROBES,
        )
    elif decision is Availability.ENABLE:
        mirror_enable(mirror=mirror)
    return decision


def mirror_token_issue(*, mirror: Mirror) -> tuple[MirrorToken, str]:
    """A new token for the mirror: the row (its sha256 only) and the token in clear, which is
    never available again."""
    token = token_new()
    row = MirrorToken.objects.create(
        mirror=mirror, prefix=token[:SHOWN_PREFIX_LENGTH], digest=token_digest(token)
    )
    return row, token


@transaction.atomic
def mirror_token_rotate(*, mirror: Mirror) -> tuple[MirrorToken, str]:
    """Revoke every token of the mirror and issue a new one (shown once)."""
    MirrorToken.objects.filter(mirror=mirror, revoked__isnull=True).update(revoked=timezone.now())
    return mirror_token_issue(mirror=mirror)


def mirror_token_revoke(*, token: MirrorToken) -> None:
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])


def token_authenticate(*, token: str) -> Mirror | None:
    """The mirror a token in clear belongs to, if the token is ours and not revoked (its last
    use is recorded); None otherwise."""
    if not token_looks_valid(token):
        return None
    digest = token_digest(token)
    row = (
        MirrorToken.objects.select_related("mirror")
        .filter(digest=digest, revoked__isnull=True)
        .first()
    )
    if row is None or not token_matches(token, row.digest):
        return None
    MirrorToken.objects.filter(pk=row.pk).update(last_used=timezone.now())
    return row.mirror


@transaction.atomic
def report_record(
    *,
    mirror: Mirror,
    state: str,
    serial: int | None = None,
    upstream_serial: int | None = None,
    software: str = "",
    version: str = "",
    free_disk_bytes: int | None = None,
    maintenance_until: datetime | None = None,
) -> StatusReport:
    """Keep what a mirror says of itself.

    A report is a hint: it never touches whether the mirror is active or its probe counters
    (only probes do, health.availability_decision). The one thing it sets is the mirror's
    maintenance window, which a mirror may announce with its token.
    """
    report = StatusReport.objects.create(
        mirror=mirror,
        state=state,
        serial=serial,
        upstream_serial=upstream_serial,
        software=software,
        version=version,
        free_disk_bytes=free_disk_bytes,
        maintenance_until=maintenance_until,
    )
    if maintenance_until is not None:
        Mirror.objects.filter(pk=mirror.pk).update(maintenance_until=maintenance_until)
        mirror.maintenance_until = maintenance_until
    return report


def probes_prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete probes older than the retention (NetworkSettings); the number deleted."""
    if days is None:
        days = network_settings().probe_retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = Probe.objects.filter(checked__lt=cutoff).delete()
    return deleted


def reports_prune(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete reports older than the retention, each mirror's latest excepted (it is what the
    mirror last said, however old); the number deleted."""
    if days is None:
        days = network_settings().report_retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    latest = StatusReport.objects.filter(mirror=OuterRef("mirror")).order_by("-received", "-pk")
    old = StatusReport.objects.filter(received__lt=cutoff).exclude(
        pk=Subquery(latest.values("pk")[:1])
    )
    deleted, _ = old.delete()
    return deleted


def probe_save(
    *,
    url: MirrorURL,
    location: ProbeLocation,
    observation: Observation,
    lag_seconds: float | None,
    lag_serials: int | None,
    checked: datetime | None = None,
) -> Probe:
    """Keep one probe of one URL as it was seen (probe_runs.py measured the lag)."""
    findings = observation.findings
    return Probe.objects.create(
        url=url,
        location=location,
        checked=checked or timezone.now(),
        reachable=observation.reachable,
        http_status=observation.http_status,
        duration=observation.duration,
        last_modified=observation.last_modified,
        lag_seconds=lag_seconds,
        mirror_serial=observation.mirror_serial,
        lag_serials=lag_serials,
        # No file fetched and nothing wrong seen is unknown, not sound.
        integrity_ok=False if findings else (True if observation.files_checked else None),
        integrity_findings=findings,
        error=observation.error,
    )
