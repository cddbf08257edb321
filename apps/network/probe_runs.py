"""A probe round: every mirror URL probed at once (probing.py), each probe kept, then the
disable / enable rule applied per mirror and, when it acts, the mirror's admin and the staff told.

The lag is measured in the hub's own serials from the sampled projects (probe_checks.serial_lag);
in seconds it is how long the mirror has lacked the first change it lacks (0 when current). When
no page could be compared, the seconds come from the mirror's ``/last-modified``: since the hub's
first change after that stamp.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from .health import Availability, probe_is_good
from .models import Mirror, MirrorURL, Probe
from .probe_checks import Expectation, Observation, page_findings, serial_lag
from .probing import Limits, probe_urls
from .selectors import (
    journal_first_change_after,
    probe_expectation,
    probe_location_hub,
    probe_targets,
    staff_emails,
)
from .services import mirror_probe_outcome_record, probe_save

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeOutcome:
    url: MirrorURL
    probe: Probe
    good: bool
    decision: Availability  # what the rule did to its mirror (the same for all its URLs)


def probe_limits() -> Limits:
    return Limits(
        timeout=settings.PYPIMIRROR_NETWORK_PROBE_TIMEOUT,
        concurrency=max(settings.PYPIMIRROR_NETWORK_PROBE_CONCURRENCY, 1),
        max_file_bytes=settings.PYPIMIRROR_NETWORK_PROBE_MAX_FILE_BYTES,
        user_agent=f"{settings.PYPIMIRROR_USER_AGENT} probe",
    )


def lag_of(
    expectation: Expectation, observation: Observation, *, now: datetime
) -> tuple[float | None, int | None]:
    """(lag in seconds, lag in serials) of one observation; None where it cannot be told."""
    if not observation.reachable or observation.http_status != 200:
        return None, None
    lag = serial_lag(expectation, observation.pages)
    if lag.serials is not None:
        seconds = 0.0 if lag.since is None else max((now - lag.since).total_seconds(), 0.0)
        return seconds, lag.serials
    if observation.last_modified is None:
        return None, None
    behind_since = journal_first_change_after(observation.last_modified)
    return (0.0 if behind_since is None else max((now - behind_since).total_seconds(), 0.0)), None


def mirrors_probe(*, names: list[str] | None = None) -> list[ProbeOutcome]:
    """Probe the URLs of the mirrors named (of every mirror in the network without names), keep
    each probe, apply the disable / enable rule to each mirror and mail about what it did."""
    targets = probe_targets(names=names)
    if not targets:
        return []
    limits = probe_limits()
    expectation = probe_expectation(
        projects=settings.PYPIMIRROR_NETWORK_PROBE_SAMPLE_PROJECTS,
        files=settings.PYPIMIRROR_NETWORK_PROBE_SAMPLE_FILES,
        max_file_bytes=limits.max_file_bytes,
    )
    observations = probe_urls([t.url for t in targets], expectation, limits)
    location = probe_location_hub()
    now = timezone.now()
    probes: list[tuple[MirrorURL, Probe]] = []
    for target, observation in zip(targets, observations, strict=True):
        observation.findings[:0] = page_findings(expectation, observation.pages)
        seconds, serials = lag_of(expectation, observation, now=now)
        probe = probe_save(
            url=target,
            location=location,
            observation=observation,
            lag_seconds=seconds,
            lag_serials=serials,
            checked=now,
        )
        probes.append((target, probe))
    decisions = {}
    for mirror in {target.mirror_id: target.mirror for target, _ in probes}.values():
        own = [probe for target, probe in probes if target.mirror_id == mirror.pk]
        bad = [probe for probe in own if not probe_is_good(probe)]
        decision = mirror_probe_outcome_record(
            mirror=mirror, good=not bad, error=probe_problem(bad[0]) if bad else ""
        )
        decisions[mirror.pk] = decision
        if decision is not Availability.KEEP:
            mirror.refresh_from_db()
            mirror_availability_notify(mirror=mirror, decision=decision, probes=own)
    return [
        ProbeOutcome(
            url=target, probe=probe, good=probe_is_good(probe), decision=decisions[target.mirror_id]
        )
        for target, probe in probes
    ]


def probe_problem(probe: Probe) -> str:
    """What was wrong with a probe, in one line: its URL and its error or first finding."""
    if probe.error:
        what = probe.error
    elif probe.integrity_findings:
        what = f"integrity: {probe.integrity_findings[0]}"
    else:
        what = f"HTTP {probe.http_status}"
    return f"{probe.url.url}: {what}"


def mirror_availability_notify(*, mirror: Mirror, decision: Availability, probes) -> None:
    """Mail the mirror's admin and the staff that the probes disabled or enabled it. A mail that
    cannot be sent is logged: it never undoes the decision or stops the round."""
    recipients = list(dict.fromkeys([*filter(None, [mirror.admin_email]), *staff_emails()]))
    if not recipients:
        logger.warning(
            "mirror %s %sd: nobody to tell (no admin e-mail, no staff)", mirror, decision
        )
        return
    after = settings.PYPIMIRROR_NETWORK_DISABLE_AFTER
    if decision is Availability.DISABLE:
        subject = f"Mirror {mirror.name} disabled: {after} probes in a row failed"
        body = (
            f"The mirror {mirror.name} was taken out of the network.\n\n"
            f"Reason: {mirror.disabled_reason}\n\n"
            f"It is enabled again by itself after {after} good probes in a row, or by staff."
        )
    else:
        subject = f"Mirror {mirror.name} enabled again: {after} good probes in a row"
        body = (
            f"The mirror {mirror.name} is back in the network: its last {after} probes were good."
        )
    lines = "\n".join(
        f"- {p.url.url}: {'good' if probe_is_good(p) else probe_problem(p)}" for p in probes
    )
    body += f"\n\nLast probe ({timezone.now():%Y-%m-%d %H:%M} UTC):\n{lines}\n"
    try:
        send_mail(f"[pypimirror] {subject}", body, None, recipients)
    except Exception:
        logger.exception("could not mail %s about mirror %s", recipients, mirror)
