"""Celery tasks of the network: thin wrappers over its services."""

import logging
import random

from django.conf import settings

from pypimirror.celery import app

from .services import probes_prune, reports_prune

logger = logging.getLogger(__name__)


@app.task(acks_late=True, ignore_result=True)
def prune_probes_and_reports() -> None:
    """Delete probes and reports past their retention (NetworkSettings, editable by staff)."""
    probes, reports = probes_prune(), reports_prune()
    logger.info("network: pruned %d probe(s) and %d report(s)", probes, reports)


@app.task(ignore_result=True)
def probe_mirrors_scheduled() -> None:
    """The beat's entry (hourly by default): the round starts after a random delay of up to
    PYPIMIRROR_NETWORK_PROBE_JITTER seconds, so probes do not hit the mirrors on the hour."""
    delay = random.uniform(0, max(settings.PYPIMIRROR_NETWORK_PROBE_JITTER, 0))
    probe_mirrors.apply_async(countdown=delay)


@app.task(acks_late=True, ignore_result=True)
def probe_mirrors(names: list[str] | None = None) -> None:
    """Probe the mirrors (the named ones, or all): probes kept, the disable / enable rule
    applied, the admins told (probe_runs.mirrors_probe)."""
    from .probe_runs import mirrors_probe

    outcomes = mirrors_probe(names=names)
    bad = [o.url.url for o in outcomes if not o.good]
    logger.info("network: probed %d URL(s), %d failing %s", len(outcomes), len(bad), bad)
