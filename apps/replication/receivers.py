"""What replication does when the catalog tells it something (apps/catalog/signals.py). Kept
apart from services.py, which imports the upstream clients: every process loads this."""

from .models import ProjectSyncState


def project_handed_over(*, project, previous: str, source: str, **_kwargs) -> None:
    """A project handed to an upstream is synced afresh by it on its next run: whatever it
    recorded while the project was another's (shadowed, so marked reached) no longer holds."""
    if not source.startswith("upstream:"):
        return
    ProjectSyncState.objects.filter(
        upstream_id=int(source.removeprefix("upstream:")),
        normalized_name=project.normalized_name,
    ).update(serial_reached=0, etag="", last_modified="", attempts=0, next_retry=None)


def project_taken_down_lifted(*, project, **_kwargs) -> None:
    """A takedown was lifted: the project's upstream reads it afresh at its next sync, even
    if its serial has not moved there, so what the lift could not put back from the store
    (and any change it missed while taken down) comes back from there."""
    project_handed_over(project=project, previous=project.source, source=project.source)


def run_reported_to_hub(*, run_id: int, **_kwargs) -> None:
    """A sync run ended: tell the hub, when this node belongs to a network (hub_report.py; a
    few seconds at most, a warning when the hub cannot be told)."""
    from django.conf import settings

    if settings.PYPIMIRROR_HUB_URL and settings.PYPIMIRROR_HUB_TOKEN:
        from .hub_report import hub_report_send

        hub_report_send()
