"""Writing verify runs and their findings (the catalog's own rows are the catalog's to write:
a file hidden by a repair goes through ``apps.catalog.withdrawal``)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Finding, VerifyBatch, VerifyRun


class VerifyBusy(Exception):
    """Another verify holds the store."""


def verify_run_start(
    *, projects: list[str], repair: bool, delete_orphans: bool, trigger: str
) -> VerifyRun:
    """The unfinished run over the same projects, picked up where it stopped (its batches
    beyond the cursor are checked again: their findings are not recorded twice), or a new run."""
    run = VerifyRun.objects.filter(state=VerifyRun.State.RUNNING, projects=projects).first()
    if run is None:
        return VerifyRun.objects.create(
            projects=projects, repair=repair, delete_orphans=delete_orphans, trigger=trigger
        )
    VerifyBatch.objects.filter(run=run, first_id__gt=run.cursor).delete()
    run.repair, run.delete_orphans = repair, delete_orphans
    run.resumed += 1
    run.save(update_fields=["repair", "delete_orphans", "resumed", "updated"])
    return run


def findings_record(*, run: VerifyRun, findings: list[Finding]) -> None:
    for finding in findings:
        finding.run = run
    Finding.objects.bulk_create(findings, ignore_conflicts=True)


def batch_done(*, batch: VerifyBatch, files: int, bytes_read: int) -> None:
    VerifyBatch.objects.filter(pk=batch.pk).update(done=True, files=files, bytes=bytes_read)


def batch_failed(*, batch: VerifyBatch, error: str) -> None:
    VerifyBatch.objects.filter(pk=batch.pk).update(error=error[:2000])


def run_cursor_advance(*, run: VerifyRun, last_id: int, files: int, bytes_read: int) -> None:
    """Every file up to ``last_id`` is checked: saved, so a killed run resumes after it."""
    VerifyRun.objects.filter(pk=run.pk).update(
        cursor=last_id,
        files_checked=F("files_checked") + files,
        bytes_checked=F("bytes_checked") + bytes_read,
        updated=timezone.now(),
    )
    run.cursor = last_id
    run.files_checked += files
    run.bytes_checked += bytes_read


def run_orphans_cursor_advance(*, run: VerifyRun, folder: str) -> None:
    """Every orphan of the store's folders up to ``folder`` (in the walk's order) is recorded:
    saved, so a run stopped in the walk goes on after it."""
    run.orphans_cursor = folder
    run.save(update_fields=["orphans_cursor", "updated"])


def run_orphans_walked(*, run: VerifyRun) -> None:
    run.orphans_walked = True
    run.save(update_fields=["orphans_walked", "updated"])


def run_finish(*, run: VerifyRun, error: str = "") -> None:
    run.state = VerifyRun.State.FAILED if error else VerifyRun.State.FINISHED
    run.error = error
    run.finished = timezone.now()
    run.findings_count = run.findings.count()
    run.save(update_fields=["state", "error", "finished", "findings_count", "updated"])


def finding_set_repair(*, finding: Finding, repair: str, detail: str = "") -> None:
    finding.repair, finding.repair_detail = repair, detail
    finding.repaired = (
        timezone.now() if repair in (Finding.Repair.RESTORED, Finding.Repair.DELETED) else None
    )
    finding.save(update_fields=["repair", "repair_detail", "repaired"])


@transaction.atomic
def batches_create(*, run: VerifyRun, ranges: list[tuple[int, int]]) -> list[VerifyBatch]:
    return VerifyBatch.objects.bulk_create(
        [VerifyBatch(run=run, first_id=first, last_id=last) for first, last in ranges]
    )
