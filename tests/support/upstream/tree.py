"""The upstream's static tree on disk, as both servers (Python and nginx) serve it.

    packages/<b2[:2]>/<b2[2:4]>/<b2[4:]>/<filename>   (+ ``.metadata`` for wheels)
    pypi/<name>/json                                  the JSON API
    simple/index.html, simple/index.v1_json           the root, PEP 503 / PEP 691
    simple/<name>/index.html, simple/<name>/index.v1_json
    integrity/<name>/<version>/<filename>/provenance  PEP 740, for files that have one

``write()`` rewrites only what changed since the last call, each file written to a temporary
name and renamed into place, so a server never serves half a file. A rewritten page's mtime
always moves forward by at least a second, so ``ETag``/``Last-Modified`` (derived from mtime and
size, as nginx does) change with it.
"""

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

from . import render
from .model import UpstreamState

SIMPLE_HTML = "index.html"
SIMPLE_JSON = "index.v1_json"


def atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary name and rename; a replaced file's mtime moves forward."""
    try:
        old_mtime = int(path.stat().st_mtime)
    except FileNotFoundError:
        old_mtime = None
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
    if old_mtime is not None and old_mtime >= int(time.time()):
        os.utime(tmp, (old_mtime + 1, old_mtime + 1))
    os.replace(tmp, path)


def write_blob(path: Path, data: bytes) -> None:
    """Write a file straight into place: its path is new (named by its hash) and no page lists
    it until the pages are written after it, so no one is served half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError), path.open("xb") as handle:
        handle.write(data)


class WarehouseUpstream(UpstreamState):
    """A Warehouse-shaped index of real distributions under ``root``; see the package docs.

    ``base_url`` prefixes file URLs (``{base_url}/packages/...``). Leave it None to let the
    server that serves the tree set it on start; ``""`` writes root-relative URLs.
    """

    def __init__(self, root: Path, *, base_url: str | None = None) -> None:
        super().__init__()
        self.root = Path(root)
        self.base_url = base_url
        self._written_base_url: str | None = None
        self.write_lock = threading.Lock()
        # What is on disk now, for the servers' headers and XML-RPC (updated by write()).
        self.published_serial = 0
        self.published_serials: dict[str, int] = {}
        self.published_names: dict[str, str] = {}  # normalized → display name
        self.published_journal_length = 0
        # Each page as it was before its last rewrite (path → bytes, serial): a lagging CDN.
        self.previous: dict[str, tuple[bytes, int]] = {}

    def write(self) -> None:
        """Render every change since the last write into the tree."""
        if self.base_url is None:
            raise RuntimeError("set base_url (or start a server on this upstream) before write()")
        with self.write_lock:
            if self.base_url != self._written_base_url:
                self._dirty.update(self.projects)
                self._written_base_url = self.base_url
            packages = self.root / "packages"
            for path, data in self._pending_blobs.items():
                write_blob(packages / path, data)
            self._pending_blobs.clear()
            changed = bool(self._dirty) or not (self.root / "simple" / SIMPLE_JSON).exists()
            for name in sorted(self._dirty):
                self._write_project(name)
            self._dirty.clear()
            if changed:
                self._write_root()
            for path in self._removed_blobs:
                (packages / path).unlink(missing_ok=True)
            self._removed_blobs.clear()

    def page_paths(self, name: str) -> dict[str, str]:
        """Kind → path under root of a project's pages."""
        return {
            "simple": f"simple/{name}/{SIMPLE_HTML}",
            "simple-json": f"simple/{name}/{SIMPLE_JSON}",
            "json": f"pypi/{name}/json",
        }

    def _keep_previous(self, rel: str, serial: int | None) -> None:
        try:
            self.previous[rel] = ((self.root / rel).read_bytes(), serial or 0)
        except FileNotFoundError:
            self.previous.pop(rel, None)

    def _write_project(self, name: str) -> None:
        paths = self.page_paths(name)
        old_serial = self.published_serials.get(name)
        project = self.projects.get(name)
        if project is None:
            for rel in paths.values():
                self._keep_previous(rel, old_serial)
            self.published_serials.pop(name, None)
            self.published_names.pop(name, None)
            for top in ("simple", "pypi", "integrity"):
                shutil.rmtree(self.root / top / name, ignore_errors=True)
            return
        # Provenance before the pages that list it; those of files gone go with them.
        shutil.rmtree(self.root / "integrity" / name, ignore_errors=True)
        for _release, file in project.files():
            if file.provenance is not None:
                atomic_write(self.root / "integrity" / file.provenance_path(name), file.provenance)
        detail = render.simple_detail(self.base_url, project)
        pages = {
            paths["simple-json"]: render.dumps(detail),
            paths["simple"]: render.simple_detail_html(detail),
            paths["json"]: render.json_api(self.base_url, project),
        }
        for rel, data in pages.items():
            if old_serial is not None:
                self._keep_previous(rel, old_serial)
            if data is None:
                (self.root / rel).unlink(missing_ok=True)
            else:
                atomic_write(self.root / rel, data)
        self.published_serials[name] = project.last_serial
        self.published_names[name] = project.name

    def _write_root(self) -> None:
        root = render.simple_root(list(self.projects.values()), self.serial)
        pages = {
            f"simple/{SIMPLE_JSON}": render.dumps(root),
            f"simple/{SIMPLE_HTML}": render.simple_root_html(root),
        }
        for rel, data in pages.items():
            self._keep_previous(rel, self.published_serial)
            atomic_write(self.root / rel, data)
        self.published_serial = self.serial
        self.published_journal_length = len(self.journal)

    def populate(
        self,
        projects: int,
        versions: int = 1,
        *,
        prefix: str = "pkg",
        wheel: bool = True,
        sdist: bool = False,
        size_padding: int = 0,
    ) -> list[str]:
        """``projects`` x ``versions`` releases named ``{prefix}-{i}`` (for benchmarks)."""
        names = [f"{prefix}-{i}" for i in range(projects)]
        for name in names:
            for v in range(versions):
                self.add_release(
                    name, f"1.{v}", wheel=wheel, sdist=sdist, size_padding=size_padding
                )
        return names
