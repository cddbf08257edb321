"""Withdrawing a file whose bytes this node has lost (verify could not repair it): it leaves
the index at once, journaled, so nodes below drop it too; the project's next sync (or a later
repair) that fetches it again brings it back like any new file."""

from django.db import transaction

from .models import Distribution
from .services import distributions_remove, project_lock


def distribution_withdraw(*, distribution_id: int) -> Distribution | None:
    """Remove the file's row (and a release it leaves empty) with its journal entries; the
    removed row, or None when it was already gone."""
    with transaction.atomic():
        row = Distribution.objects.filter(pk=distribution_id).select_related("project").first()
        if row is None:
            return None
        project = project_lock(name=row.project.name)
        distribution = (
            Distribution.objects.filter(pk=distribution_id).select_related("release").first()
        )
        if project is None or distribution is None:
            return None
        distributions_remove(project=project, distributions=[distribution])
        return distribution
