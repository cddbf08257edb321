"""One verify, start to end: the store's files re-hashed against the catalog (resuming an
unfinished run from its cursor), orphans listed, and what was found repaired when asked."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.storage import Storage
from packaging.utils import canonicalize_name

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution, Project

from .models import Finding, VerifyRun
from .orphans import orphans_delete, orphans_find
from .repair import run_repair
from .runner import BATCH_FILES, files_to_check, run_blobs_check, verify_lock
from .services import VerifyBusy, run_finish, run_orphans_walked, verify_run_start

logger = logging.getLogger(__name__)


class VerifyRefused(Exception):
    """The verify could not run (exit code 2): an unknown project, the store unreachable,
    another verify running."""


@dataclass
class VerifyOutcome:
    run: VerifyRun
    resumed_from: int
    walk_resumed_after: str = ""  # the orphan walk's folder it went on after, if it did
    findings: dict[str, int] = field(default_factory=dict)
    unresolved: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    orphans_deleted: int = 0

    @property
    def sound(self) -> bool:
        return self.unresolved == 0


def store_check_reachable(storage: Storage) -> None:
    """VerifyRefused when the store cannot be listed (not mounted, no such bucket); a store
    not made yet is fine while the catalog holds no file."""
    try:
        storage.listdir("")
    except FileNotFoundError:
        if Distribution.objects.exists():
            raise VerifyRefused("the blob store's location does not exist") from None
    except Exception as exc:
        raise VerifyRefused(f"the blob store cannot be read: {exc}") from None


def projects_resolve(names: list[str]) -> list[str]:
    normalized = sorted({canonicalize_name(n) for n in names})
    known = set(
        Project.objects.filter(normalized_name__in=normalized).values_list(
            "normalized_name", flat=True
        )
    )
    if unknown := [n for n in normalized if n not in known]:
        raise VerifyRefused(f"no such project: {', '.join(unknown)}")
    return normalized


def verify(
    *,
    projects: list[str],
    repair: bool = False,
    delete_orphans: bool = False,
    trigger: str = VerifyRun.Trigger.COMMAND,
    use_workers: bool = False,
    concurrency: int | None = None,
    batch_files: int = BATCH_FILES,
    progress: Callable[[VerifyRun], None] = lambda run: None,
) -> VerifyOutcome:
    """Run (or resume) a verify; VerifyRefused when it cannot run."""
    normalized = projects_resolve(projects)
    storage = blob_storage()
    store_check_reachable(storage)
    try:
        release = verify_lock()
    except VerifyBusy as exc:
        raise VerifyRefused(str(exc)) from None
    try:
        run = verify_run_start(
            projects=normalized, repair=repair, delete_orphans=delete_orphans, trigger=trigger
        )
        outcome = VerifyOutcome(
            run=run,
            resumed_from=run.cursor if run.resumed else 0,
            walk_resumed_after=run.orphans_cursor if run.resumed else "",
        )
        if not run.files_total:
            run.files_total = files_to_check(run)
            run.save(update_fields=["files_total", "updated"])
        try:
            run_blobs_check(
                run,
                concurrency=concurrency,
                use_workers=use_workers,
                batch_files=batch_files,
                progress=progress,
            )
            if not run.projects and not run.orphans_walked:
                orphans_find(run, storage=storage, progress=progress)
                run_orphans_walked(run=run)
            if repair:
                outcome.repairs = run_repair(run)
            if delete_orphans:
                outcome.orphans_deleted = orphans_delete(run, storage=storage)
        except Exception as exc:
            logger.exception("verify #%s failed", run.pk)
            run_finish(run=run, error=repr(exc))
            raise VerifyRefused(f"verify #{run.pk} failed: {exc!r}") from exc
        run_finish(run=run)
    finally:
        release()
    for kind in Finding.Kind.values:
        outcome.findings[kind] = run.findings.filter(kind=kind).count()
    outcome.unresolved = run.findings.exclude(
        repair__in=[Finding.Repair.RESTORED, Finding.Repair.DELETED]
    ).count()
    return outcome
