"""Checking one batch of the catalog's files against the store: each file's blob, its PEP 658
metadata and its PEP 740 provenance, re-hashed and compared with the row.

A file's row holds its size and sha256; its metadata's and its provenance's, the sha256 alone
(which pins the size: bytes of another size never have that sha256). A provenance blob is
also held to the catalog's rule for every provenance document it accepts (at most
``MAX_PROVENANCE_SIZE``, blobstore.py): a larger one is corrupt without being read."""

from dataclasses import dataclass

from django.core.files.storage import Storage

from apps.catalog.blobstore import MAX_PROVENANCE_SIZE, blob_storage, provenance_blob_path
from apps.catalog.models import Distribution

from .hashing import blob_digest
from .models import Finding


@dataclass
class BatchResult:
    files: int
    bytes: int
    findings: list[Finding]


def batch_distributions(*, first_id: int, last_id: int, projects: list[str]) -> list[tuple]:
    """The rows of a batch, as (id, project, filename, blob_path, size, sha256, metadata
    sha256, provenance sha256) tuples: no model instances for millions of rows."""
    rows = Distribution.objects.filter(pk__gte=first_id, pk__lte=last_id)
    if projects:
        rows = rows.filter(project__normalized_name__in=projects)
    return list(
        rows.order_by("pk").values_list(
            "pk",
            "project__normalized_name",
            "filename",
            "blob_path",
            "size",
            "sha256",
            "core_metadata_sha256",
            "provenance_sha256",
        )
    )


def _compare(
    storage: Storage,
    *,
    path: str,
    sha256: str,
    size: int | None,
    blob: str,
    row: tuple,
    max_size: int | None = None,
) -> tuple[Finding | None, int]:
    """A finding for the blob at ``path`` unless it holds ``sha256`` (and ``size``, and no more
    than ``max_size`` bytes); with the bytes read."""
    digest = blob_digest(storage, path, max_size=max_size)
    common = {
        "blob": blob,
        "path": path,
        "distribution_id": row[0],
        "project": row[1],
        "filename": row[2],
        "expected_sha256": sha256,
        "expected_size": size,
    }
    if digest is None:
        return Finding(kind=Finding.Kind.MISSING, **common), 0
    if digest.sha256 != sha256 or (size is not None and digest.size != size):
        finding = Finding(
            kind=Finding.Kind.CORRUPT,
            actual_sha256=digest.sha256,
            actual_size=digest.size,
            **common,
        )
        return finding, digest.size if digest.sha256 else 0  # too large: not read
    return None, digest.size


def distribution_check(storage: Storage, row: tuple) -> tuple[list[Finding], int]:
    """The findings of one file (its blob, metadata and provenance), and the bytes read."""
    _pk, _project, _filename, path, size, sha256, metadata_sha256, provenance_sha256 = row
    findings = []
    read = 0
    checks = [(path, sha256, size, None, Finding.Blob.FILE)]
    if metadata_sha256:
        checks.append((f"{path}.metadata", metadata_sha256, None, None, Finding.Blob.METADATA))
    if provenance_sha256:
        checks.append(
            (
                provenance_blob_path(provenance_sha256),
                provenance_sha256,
                None,
                MAX_PROVENANCE_SIZE,
                Finding.Blob.PROVENANCE,
            )
        )
    for blob_path, expected, expected_size, max_size, blob in checks:
        finding, count = _compare(
            storage,
            path=blob_path,
            sha256=expected,
            size=expected_size,
            max_size=max_size,
            blob=blob,
            row=row,
        )
        read += count
        if finding is not None:
            findings.append(finding)
    return findings, read


def rows_check(rows: list[tuple], *, threads: int = 1) -> BatchResult:
    """Check rows, ``threads`` at a time (hashing lets go of the GIL)."""
    storage = blob_storage()
    result = BatchResult(files=0, bytes=0, findings=[])
    if threads > 1 and len(rows) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(lambda row: distribution_check(storage, row), rows))
    else:
        outcomes = [distribution_check(storage, row) for row in rows]
    for findings, read in outcomes:
        result.files += 1
        result.bytes += read
        result.findings.extend(findings)
    return result
