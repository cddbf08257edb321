import time

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from apps.verification.models import VerifyRun
from apps.verification.runner import BATCH_FILES
from apps.verification.verify import VerifyRefused, verify

PROGRESS_SECONDS = 30
LISTED_MAX = 1000  # findings printed; every one is in the admin and the API


class Command(BaseCommand):
    help = (
        "Re-hash the stored blobs against the catalog (resuming an unfinished verify from its "
        "cursor) and list missing, corrupt and orphaned blobs: exit 0 when the store is sound "
        "(or every finding was repaired), 1 when findings remain, 2 when verify could not run."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Fetch missing and corrupt files again from their project's upstream; hide "
            "from the index (journaled) those that cannot be.",
        )
        parser.add_argument(
            "--delete-orphans", action="store_true", help="Delete the orphaned blobs found."
        )
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            metavar="NAME",
            help="Only this project's files (repeatable); no orphan walk.",
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Hash here with a thread pool even when Celery workers answer.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_FILES,
            help=f"Files per batch; the cursor is saved after each (default {BATCH_FILES}).",
        )
        parser.add_argument(
            "--concurrency", type=int, default=None, help="Threads here (default: the cores)."
        )

    def handle(self, *args, **options) -> None:
        from apps.replication.runner import workers_available

        use_workers = not options["in_process"] and workers_available()
        shown = [time.monotonic()]

        def progress(run: VerifyRun) -> None:
            """A line every PROGRESS_SECONDS, so a long verify shows it moves."""
            if time.monotonic() - shown[0] >= PROGRESS_SECONDS:
                shown[0] = time.monotonic()
                walk = f", orphan walk done to {run.orphans_cursor}" if run.orphans_cursor else ""
                self.stdout.write(
                    f"verify #{run.pk}: {run.files_checked:,}/{run.files_total:,} files, "
                    f"{filesizeformat(run.bytes_checked)}, cursor at file #{run.cursor}{walk}"
                )

        try:
            outcome = verify(
                projects=options["project"],
                repair=options["repair"],
                delete_orphans=options["delete_orphans"],
                use_workers=use_workers,
                concurrency=options["concurrency"],
                batch_files=max(1, options["batch_size"]),
                progress=progress,
            )
        except VerifyRefused as exc:
            raise CommandError(str(exc), returncode=2) from None
        run = outcome.run
        resumed = f", resumed after file #{outcome.resumed_from}" if outcome.resumed_from else ""
        if outcome.walk_resumed_after:
            resumed += f", orphan walk resumed after {outcome.walk_resumed_after}"
        where = "on the Celery workers" if use_workers else "in this process"
        self.stdout.write(
            f"verify #{run.pk}{resumed}: {run.files_checked} files, "
            f"{filesizeformat(run.bytes_checked)} checked {where}"
        )
        for finding in run.findings.order_by("kind", "path")[:LISTED_MAX]:
            repair = f" [{finding.get_repair_display().lower()}]" if finding.repair else ""
            self.stdout.write(f"  {finding.kind:8} {finding.path}{repair}")
        if run.findings_count > LISTED_MAX:
            self.stdout.write(
                f"  ... and {run.findings_count - LISTED_MAX:,} more: see the admin "
                f"(Verification > Findings) or /api/v1/verify-findings/?run={run.pk}"
            )
        if outcome.repairs or outcome.orphans_deleted:
            repairs = ", ".join(f"{n} {what}" for what, n in outcome.repairs.items())
            self.stdout.write(
                f"repairs: {repairs or 'none'}; {outcome.orphans_deleted} orphans deleted"
            )
        counts = ", ".join(f"{n} {kind}" for kind, n in outcome.findings.items())
        self.stdout.write(f"findings: {counts}; unresolved: {outcome.unresolved}")
        if outcome.unresolved:
            raise SystemExit(1)
