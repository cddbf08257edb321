"""A blob store and catalog filled with random files, through the catalog's own services (the
verify tests, benchmarks/verify.py)."""

import os
import random

from django.db import transaction

from apps.catalog.blobstore import CHUNK_SIZE, BlobWriter
from apps.catalog.services import NewDistribution, distributions_publish, project_lock


def store_fill(*, files: int, size: int, projects: int = 4, seed: int = 0) -> int:
    """``files`` sdists of ``size`` random bytes each, spread over ``projects`` projects named
    ``filler-<n>``: their blobs placed as a sync places them, their rows published. Returns
    the bytes written."""
    rng = random.Random(seed)
    per_project = [list(range(p, files, projects)) for p in range(projects)]
    for number, indexes in enumerate(per_project):
        if not indexes:
            continue
        new = []
        for index in indexes:
            filename = f"filler_{number}-{index}.0.tar.gz"
            with BlobWriter(filename=filename) as writer:
                left = size
                while left:
                    chunk = min(left, CHUNK_SIZE)
                    writer.write(rng.randbytes(chunk) if size < CHUNK_SIZE else os.urandom(chunk))
                    left -= chunk
                verified = writer.commit()
            new.append(NewDistribution(file=verified, version=f"{index}.0", packagetype="sdist"))
        with transaction.atomic():
            project = project_lock(name=f"filler-{number}", create=True)
            distributions_publish(project=project, new=new)
    return files * size
