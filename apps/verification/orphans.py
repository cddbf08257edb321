"""Orphaned blobs: files in the store's ``packages/`` and ``provenance/`` trees that no catalog
row names (nor a standing takedown, which keeps its files' blobs for a lift). Listed through the
storage (listdir, so S3 works too) and looked up in batches of paths with the catalog's unique
indexes; deleted only when asked."""

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.core.files.storage import Storage
from django.utils import timezone

from apps.catalog.blobstore import METADATA_SUFFIX, blob_storage
from apps.catalog.models import Distribution
from apps.catalog.selectors import takedown_held_blob_paths, takedown_held_provenance

from .models import Finding, VerifyRun
from .services import finding_set_repair, findings_record

logger = logging.getLogger(__name__)

LOOKUP_BATCH = 1000
# A blob is placed a moment before its row is published (blobstore.py): one younger than this
# may be a sync's file in flight, not an orphan.
MIN_AGE = timedelta(hours=1)
# Files the store's own writes leave for an instant (storage.py, blobstore.py), not blobs.
_TEMPORARY_PREFIXES = (".partial-", "blob-")


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


def orphans_find(run: VerifyRun, *, storage: Storage | None = None) -> int:
    """Record a finding for each orphaned blob; how many were found."""
    storage = storage or blob_storage()
    cutoff = timezone.now() - MIN_AGE
    found = 0
    for top in ("packages", "provenance"):
        batch: list[str] = []
        for path in storage_walk(storage, top):
            batch.append(path)
            if len(batch) >= LOOKUP_BATCH:
                found += _record(run, storage, batch, cutoff)
                batch = []
        found += _record(run, storage, batch, cutoff)
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
