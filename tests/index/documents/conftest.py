"""Fixtures of the documents' tests: their own directory, small segments, catalog changes."""

import gzip
import random

import pytest
from django.db import transaction
from packaging.utils import canonicalize_name

from apps.catalog import services as catalog
from apps.catalog.models import Project
from apps.catalog.selectors import project_list_active
from apps.index.documents import services
from apps.index.documents.formats import FORMATS, document_render


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path):
    settings.PYPIMIRROR_INDEX_DIR = tmp_path / "index"
    return tmp_path / "index"


@pytest.fixture
def small(monkeypatch):
    """Segments of 3 projects (split past 6), read 7 at a time: many segments from few rows."""
    monkeypatch.setattr(services, "TARGET", 3)
    monkeypatch.setattr(services, "MAXIMUM", 6)
    monkeypatch.setattr(services, "PAGE", 7)


def body(manifest, fmt: str, *, gzip_: bool = False) -> bytes:
    return b"".join(manifest.chunks(fmt, gzip=gzip_))


def assert_documents_right(manifest) -> None:
    """Each document, plain and gzipped, is the catalog's as rendered whole, at its serial."""
    rows = project_list_active()
    for fmt in FORMATS:
        plain = body(manifest, fmt)
        assert plain == document_render(fmt, rows, serial=manifest.serial), fmt
        packed = body(manifest, fmt, gzip_=True)
        assert gzip.decompress(packed) == plain
        assert (len(plain), len(packed)) == (
            manifest.length(fmt),
            manifest.length(fmt, gzip=True),
        )


class Catalog:
    """Changes to the catalog through its services, each journaled like a sync's."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)

    def name(self) -> str:
        middle = "".join(self.rng.choice("ab-_.cZ9") for _ in range(self.rng.randrange(0, 4)))
        return self.rng.choice("abcXYZ019") + middle + self.rng.choice("abyZ0")

    def create(self, name: str | None = None) -> str:
        name = name or self.name()
        with transaction.atomic():
            catalog.project_lock(name=name, create=True)
        return canonicalize_name(name)

    def remove(self, normalized: str) -> None:
        with transaction.atomic():
            catalog.project_remove(project=catalog.project_lock(name=normalized))

    def block(self, normalized: str, blocked: bool = True) -> None:
        with transaction.atomic():
            project = catalog.project_lock(name=normalized)
            catalog.project_set_blocked(project=project, blocked=blocked)

    def touch(self, normalized: str) -> None:
        """A new serial for the project (its PEP 792 status turned over)."""
        with transaction.atomic():
            project = catalog.project_lock(name=normalized)
            status = "archived" if project.index_status == "active" else "active"
            catalog.project_set_index_status(project=project, status=status)

    def random_change(self) -> None:
        names = list(Project.objects.values_list("normalized_name", "status"))
        choice = self.rng.random()
        if not names or choice < 0.35:
            self.create()
            return
        normalized, status = self.rng.choice(names)
        if status == "deleted":
            # back, maybe spelled otherwise (a new display name)
            self.create(normalized.upper() if self.rng.random() < 0.5 else normalized)
        elif status == "blocked":
            self.block(normalized, blocked=False)
        elif choice < 0.6:
            self.remove(normalized)
        elif choice < 0.7:
            self.block(normalized)
        else:
            self.touch(normalized)


@pytest.fixture
def changes() -> Catalog:
    return Catalog()
