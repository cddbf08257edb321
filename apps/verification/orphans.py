"""Orphaned blobs: files in the store's ``packages/`` and ``provenance/`` trees that no catalog
row names (nor a standing takedown, which keeps its files' blobs for a lift). Listed through the
storage (listdir, so S3 works too) and looked up in batches of paths with the catalog's unique
indexes; deleted only when asked.

The walk goes folder by folder (``walk_folders``: each tree's own files, then its 256 folders
of the blob layout, blobstore.py) and saves the last folder done on the run, so a verify
stopped in the walk goes on after that folder rather than from the start."""

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.core.files.storage import Storage
from django.utils import timezone

from apps.catalog.blobstore import METADATA_SUFFIX, blob_storage
from apps.catalog.models import Distribution
from apps.catalog.selectors import takedown_held_blob_paths, takedown_held_provenance

from .models import Finding, VerifyRun
from .services import finding_set_repair, findings_record, run_orphans_cursor_advance

logger = logging.getLogger(__name__)

LOOKUP_BATCH = 1000
# A blob is placed a moment before its row is published (blobstore.py): one younger than this
# may be a sync's file in flight, not an orphan.
MIN_AGE = timedelta(hours=1)
# Files the store's own writes leave for an instant (storage.py, blobstore.py), not blobs.
_TEMPORARY_PREFIXES = (".partial-", "blob-")
TREES = ("packages", "provenance")  # the walk's order, which its cursor follows


def storage_walk(storage: Storage, top: str) -> Iterator[str]:
    """Every file's name under ``top``, depth first."""
    try:
        directories, files = storage.listdir(top)
    except FileNotFoundError:
        return
    for name in files:
        if not name.startswith(_TEMPORARY_PREFIXES):
            yield f"{top}/{name}"
    for directory in sorted(directories):
        yield from storage_walk(storage, f"{top}/{directory}")


def _unnamed(paths: list[str]) -> list[str]:
    """The paths no row names (as a file, its metadata or its provenance)."""
    files = set()
    metadata = set()
    provenance = {}
    for path in paths:
        if path.startswith("provenance/"):
            provenance[path] = path.rsplit("/", 2)[-2] + path.rsplit("/", 1)[-1].removesuffix(
                ".json"
            )
        elif path.endswith(METADATA_SUFFIX):
            metadata.add(path.removesuffix(METADATA_SUFFIX))
        else:
            files.add(path)
    named = set(
        Distribution.objects.filter(blob_path__in=files).values_list("blob_path", flat=True)
    )
    named |= {
        f"{p}{METADATA_SUFFIX}"
        for p in Distribution.objects.filter(
            blob_path__in=metadata, core_metadata_sha256__isnull=False
        ).values_list("blob_path", flat=True)
    }
    held = set(
        Distribution.objects.filter(provenance_sha256__in=provenance.values()).values_list(
            "provenance_sha256", flat=True
        )
    )
    named |= {path for path, sha256 in provenance.items() if sha256 in held}
    # Blobs of files taken down (apps/catalog/takedowns.py) are kept for a lift: not orphans.
    named |= takedown_held_blob_paths(paths=(files | metadata) - named)
    kept = takedown_held_provenance(sha256s=set(provenance.values()) - held)
    named |= {path for path, sha256 in provenance.items() if sha256 in kept}
    return [p for p in paths if p not in named]


def _old_enough(storage: Storage, path: str, cutoff) -> bool:
    try:
        return storage.get_modified_time(path) < cutoff
    except (FileNotFoundError, NotImplementedError):
        return False


def walk_folders(storage: Storage) -> list[str]:
    """The walk's folders in its order: for each tree, the tree itself (its own files) and then
    its folders, sorted ("packages", "packages/00", ..., "provenance", "provenance/00", ...)."""
    folders = []
    for tree in TREES:
        try:
            directories, _files = storage.listdir(tree)
        except FileNotFoundError:
            continue
        folders.append(tree)
        folders.extend(f"{tree}/{name}" for name in sorted(directories))
    return folders


def _walk_key(folder: str) -> tuple[int, str]:
    """Where ``folder`` comes in the walk; a cursor's folder need not exist any more."""
    tree, _, name = folder.partition("/")
    return (TREES.index(tree) if tree in TREES else len(TREES), name)


def _folder_files(storage: Storage, folder: str) -> Iterator[str]:
    """The files of a walk folder: a tree's own files only, all files under any other."""
    if "/" in folder:
        yield from storage_walk(storage, folder)
        return
    try:
        _directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    yield from (f"{folder}/{n}" for n in files if not n.startswith(_TEMPORARY_PREFIXES))


def orphans_find(
    run: VerifyRun,
    *,
    storage: Storage | None = None,
    progress: Callable[[VerifyRun], None] = lambda run: None,
) -> int:
    """Record a finding for each orphaned blob in the folders after the run's
    ``orphans_cursor``, saving it after each folder; how many were found. A folder walked again
    (the run stopped in it) records nothing twice."""
    storage = storage or blob_storage()
    cutoff = timezone.now() - MIN_AGE
    found = 0
    done = _walk_key(run.orphans_cursor) if run.orphans_cursor else None
    for folder in walk_folders(storage):
        if done is not None and _walk_key(folder) <= done:
            continue
        batch: list[str] = []
        for path in _folder_files(storage, folder):
            batch.append(path)
            if len(batch) >= LOOKUP_BATCH:
                found += _record(run, storage, batch, cutoff)
                batch = []
        found += _record(run, storage, batch, cutoff)
        run_orphans_cursor_advance(run=run, folder=folder)
        progress(run)
    return found


def _record(run: VerifyRun, storage: Storage, paths: list[str], cutoff) -> int:
    if not paths:
        return 0
    orphans = [p for p in _unnamed(paths) if _old_enough(storage, p, cutoff)]
    findings = []
    for path in orphans:
        blob = Finding.Blob.FILE
        if path.startswith("provenance/"):
            blob = Finding.Blob.PROVENANCE
        elif path.endswith(METADATA_SUFFIX):
            blob = Finding.Blob.METADATA
        try:
            size = storage.size(path)
        except (FileNotFoundError, OSError):
            continue
        findings.append(
            Finding(
                kind=Finding.Kind.ORPHAN,
                blob=blob,
                path=path,
                filename=path.rsplit("/", 1)[-1],
                actual_size=size,
            )
        )
    findings_record(run=run, findings=findings)
    return len(findings)


def orphans_delete(run: VerifyRun, *, storage: Storage | None = None) -> int:
    """Delete the run's orphans not deleted yet, if still named by no row; how many went."""
    storage = storage or blob_storage()
    deleted = 0
    pending = list(run.findings.filter(kind=Finding.Kind.ORPHAN, repair=Finding.Repair.NONE))
    for start in range(0, len(pending), LOOKUP_BATCH):
        chunk = pending[start : start + LOOKUP_BATCH]
        still = set(_unnamed([f.path for f in chunk]))
        for finding in chunk:
            if finding.path not in still:
                finding_set_repair(
                    finding=finding, repair=Finding.Repair.FAILED, detail="named by a row now"
                )
                continue
            storage.delete(finding.path)
            finding_set_repair(finding=finding, repair=Finding.Repair.DELETED)
            deleted += 1
    return deleted
