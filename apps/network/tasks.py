"""Celery tasks of the network: thin wrappers over its services."""

import logging

from pypimirror.celery import app

from .services import probes_prune, reports_prune

logger = logging.getLogger(__name__)


@app.task(acks_late=True, ignore_result=True)
def prune_probes_and_reports() -> None:
    """Delete probes and reports past their retention (NetworkSettings, editable by staff)."""
    probes, reports = probes_prune(), reports_prune()
    logger.info("network: pruned %d probe(s) and %d report(s)", probes, reports)
