"""Importing local distribution files into the catalog (``manage.py import_dists``)."""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.db import transaction
from packaging.utils import canonicalize_name

from .blobstore import BlobError, blob_put_file, metadata_put
from .distfiles import InvalidDistribution, inspect_distribution
from .models import Distribution
from .selectors import projects_sources
from .services import (
    CatalogError,
    NewDistribution,
    ProjectShadowed,
    distribution_publish,
    project_lock,
)
from .sources import LOCAL

DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


class Outcome(StrEnum):
    ADDED = "added"
    PRESENT = "already present"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportResult:
    path: Path
    outcome: Outcome
    detail: str = ""


def find_distributions(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the distribution files under the folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(DIST_SUFFIXES)
            )
        else:
            yield path


def distribution_import(path: Path) -> ImportResult:
    """Import one file: verified into the store, then published with its journal entries.

    Every failure is an ImportResult with the reason; nothing of a failed file becomes visible.
    """
    filename = path.name
    try:
        existing = Distribution.objects.filter(filename=filename).only("sha256").first()
        if existing is not None:  # decided before anything is stored
            with path.open("rb") as source:
                sha256 = hashlib.file_digest(source, "sha256").hexdigest()
            if existing.sha256 == sha256:
                return ImportResult(path, Outcome.PRESENT)
            return ImportResult(path, Outcome.FAILED, "already present with different bytes")
        info = inspect_distribution(path, filename)
        owner = projects_sources(names=[canonicalize_name(info.name)]).get(
            canonicalize_name(info.name), LOCAL
        )
        if owner != LOCAL:  # decided before anything is stored
            return ImportResult(path, Outcome.FAILED, str(ProjectShadowed(info.name, owner)))
        with path.open("rb") as source:
            verified = blob_put_file(source, filename=filename)
    except (InvalidDistribution, BlobError, OSError) as exc:
        return ImportResult(path, Outcome.FAILED, str(exc))
    core_metadata_sha256 = None
    if info.core_metadata is not None:
        core_metadata_sha256 = metadata_put(blob_path=verified.blob_path, data=info.core_metadata)
    new = NewDistribution(
        file=verified,
        version=info.version,
        packagetype=info.packagetype,
        python_version=info.python_version,
        requires_python=info.requires_python,
        core_metadata_sha256=core_metadata_sha256,
        release_metadata=info.metadata,
    )
    try:
        with transaction.atomic():
            project = project_lock(name=info.name, create=True, source=LOCAL)
            distribution_publish(project=project, new=new)
    except CatalogError as exc:
        return ImportResult(path, Outcome.FAILED, str(exc))
    return ImportResult(path, Outcome.ADDED)
