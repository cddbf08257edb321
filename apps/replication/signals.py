"""What replication tells other code without knowing it (the hub report, apps/replication
receivers.py; any app may listen)."""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent with ``run_id`` once a sync run has ended (succeeded, partly failed, failed, or given up
# with projects lost), after the transaction that ended it commits, in the process that ended
# it: the sync command, or the worker that counted its last project.
sync_run_finished = Signal()


def sync_run_finished_announce(*, run_id: int) -> None:
    """Send ``sync_run_finished`` once the current transaction commits (at once outside one).
    A receiver that raises is logged, never the sync's failure."""

    def send() -> None:
        for receiver, outcome in sync_run_finished.send_robust(sender=None, run_id=run_id):
            if isinstance(outcome, Exception):
                logger.warning(
                    "after run #%s: %s failed: %r",
                    run_id,
                    getattr(receiver, "__qualname__", receiver),
                    outcome,
                )

    transaction.on_commit(send)
