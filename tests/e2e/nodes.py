"""What a node serves, read as a client reads it, and what a mirror of it holds on disk.

Shared by the replication and bandersnatch tests, which compare these against the files a test
started from.
"""

import hashlib
import subprocess
from pathlib import Path

import httpx
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from tests.support.dists import file_sha256
from tests.support.servers import LiveServer

from .pages import JSON_V1, FileEntry, html_files


def node_serial(url: str) -> int:
    """The node's newest serial, from its PEP 691 JSON root."""
    root = httpx.get(f"{url}/simple/", headers={"Accept": JSON_V1}, timeout=10)
    root.raise_for_status()
    return int(root.json()["meta"]["_last-serial"])


def project_serial(url: str, name: str) -> int:
    """``X-PyPI-Last-Serial`` of a project's simple page."""
    page = httpx.get(f"{url}/simple/{name}/", timeout=10)
    page.raise_for_status()
    return int(page.headers["X-PyPI-Last-Serial"])


def project_names(url: str) -> list[str]:
    """The projects the node lists in its JSON root (normalized)."""
    root = httpx.get(f"{url}/simple/", headers={"Accept": JSON_V1}, timeout=10)
    root.raise_for_status()
    return sorted(canonicalize_name(p["name"]) for p in root.json()["projects"])


def project_files(url: str, name: str) -> list[FileEntry]:
    """The files on a project's PEP 503 HTML page."""
    page_url = f"{url}/simple/{name}/"
    page = httpx.get(page_url, timeout=10)
    page.raise_for_status()
    return html_files(page.text, page_url)


def listed_files(url: str) -> dict[str, FileEntry]:
    """Every file the node lists, by filename, across all its projects."""
    return {f.filename: f for name in project_names(url) for f in project_files(url, name)}


def served_files(url: str) -> dict[str, str]:
    """Every listed file downloaded through its link: filename → sha256 of the bytes received.

    A link whose ``#sha256=`` fragment disagrees with the bytes behind it fails here.
    """
    found = {}
    with httpx.Client(timeout=30) as http:
        for filename, entry in listed_files(url).items():
            response = http.get(entry.url)
            response.raise_for_status()
            digest = hashlib.sha256(response.content).hexdigest()
            assert entry.hashes == (("sha256", digest),), f"{filename}: listed {entry.hashes}"
            found[filename] = digest
    return found


def served_metadata(url: str) -> dict[str, bytes]:
    """PEP 658 metadata of every file listed with ``data-core-metadata``, by filename."""
    found = {}
    with httpx.Client(timeout=30) as http:
        for filename, entry in listed_files(url).items():
            if entry.core_metadata is None:
                continue
            response = http.get(f"{entry.url}.metadata")
            response.raise_for_status()
            found[filename] = response.content
    return found


def sha256s(directory: Path) -> dict[str, str]:
    """The files of a directory (not recursive) by name, with their sha256."""
    return {p.name: file_sha256(p) for p in sorted(directory.iterdir()) if p.is_file()}


def project_name(filename: str) -> str:
    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)[0]
    return parse_sdist_filename(filename)[0]


def mirrored_files(web: Path) -> dict[str, str]:
    """Every release file under a bandersnatch mirror's web/packages/, by name, with its sha256."""
    found = {}
    for path in (web / "packages").rglob("*"):
        if path.is_file() and not path.name.endswith(".metadata"):
            assert path.name not in found, f"{path.name} mirrored twice"
            found[path.name] = file_sha256(path)
    return found


def sync(node: LiveServer, upstream: str, *args: str) -> subprocess.CompletedProcess:
    """``manage.py sync UPSTREAM`` on the node, as an operator runs it; exit code not checked."""
    return node.manage("sync", upstream, *args, check=False)


def sync_runs(url: str) -> list[dict]:
    """The node's sync runs, newest first, from ``/api/v1/sync-runs/``."""
    response = httpx.get(f"{url}/api/v1/sync-runs/", timeout=10)
    response.raise_for_status()
    return response.json()["results"]
