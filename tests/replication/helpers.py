"""Helpers for the replication tests: syncing in-process, reading what the node serves, checking
the blob store against the rows."""

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.db.models import Count, Max
from django.test import Client
from packaging.utils import canonicalize_name

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution, JournalEntry, Project
from apps.replication.models import SyncRun, Upstream
from apps.replication.runner import run_in_process
from apps.replication.services import sync_run_start, upstream_get_or_create_for_url
from tests.support.upstream import UpstreamServer, WarehouseUpstream

JSON_V1 = "application/vnd.pypi.simple.v1+json"


def upstream_for(server: UpstreamServer, protocol: str | None = None) -> Upstream:
    """The node's Upstream row for the server; ``protocol`` forces one instead of detecting."""
    row = upstream_get_or_create_for_url(url=server.url)
    if protocol is not None and row.protocol != protocol:
        row.protocol = protocol
        row.save(update_fields=["protocol"])
    return row


def sync(
    server_or_upstream: UpstreamServer | Upstream,
    *,
    protocol: str | None = None,
    projects: list[str] | None = None,
    concurrency: int = 4,
) -> SyncRun:
    """One complete sync, planned and carried out in this process as ``sync --in-process``."""
    row = (
        server_or_upstream
        if isinstance(server_or_upstream, Upstream)
        else upstream_for(server_or_upstream, protocol)
    )
    row.refresh_from_db()
    run, names = sync_run_start(upstream=row, trigger=SyncRun.Trigger.COMMAND, projects=projects)
    run_in_process(run, names, concurrency=concurrency)
    run.refresh_from_db()
    return run


@dataclass(frozen=True)
class Served:
    """One file as the node serves it: its page entry and the bytes behind its URL."""

    sha256: str
    requires_python: str | None
    yanked: bool | str
    core_metadata: dict | bool
    size: int
    data: bytes
    metadata: bytes | None


def node_projects(client: Client) -> dict[str, int]:
    """The node's root listing: project name → its ``_last-serial``."""
    response = client.get("/simple/", HTTP_ACCEPT=JSON_V1)
    assert response.status_code == 200
    document = json.loads(_body(response))  # streamed from the index's files
    return {p["name"]: p["_last-serial"] for p in document["projects"]}


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def node_served(client: Client, name: str) -> dict[str, Served] | None:
    """Every file the node's PEP 691 page lists for ``name``, fetched by its URL; None on 404."""
    response = client.get(f"/simple/{canonicalize_name(name)}/", HTTP_ACCEPT=JSON_V1)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.status_code
    served = {}
    for entry in response.json()["files"]:
        path = urlsplit(entry["url"]).path
        got = client.get(path)
        assert got.status_code == 200, (path, got.status_code)
        metadata = None
        if entry.get("core-metadata"):
            meta = client.get(path + ".metadata")
            assert meta.status_code == 200, (path, meta.status_code)
            metadata = _body(meta)
        served[entry["filename"]] = Served(
            sha256=entry["hashes"]["sha256"],
            requires_python=entry.get("requires-python"),
            yanked=entry["yanked"],
            core_metadata=entry.get("core-metadata", False),
            size=entry["size"],
            data=_body(got),
            metadata=metadata,
        )
    return served


def upstream_files(upstream: WarehouseUpstream, name: str) -> dict[str, tuple]:
    """What the upstream holds for ``name``: filename → (bytes, metadata bytes, release)."""
    project = upstream.project(name)
    packages = upstream.root / "packages"
    result = {}
    for release, file in project.files():
        metadata_path = packages / f"{file.path}.metadata"
        result[file.filename] = (
            (packages / file.path).read_bytes(),
            metadata_path.read_bytes() if file.metadata_sha256 else None,
            release,
        )
    return result


def assert_node_mirrors(client: Client, upstream: WarehouseUpstream, name: str) -> None:
    """The node serves exactly the upstream's files of ``name``: bytes, metadata, hashes,
    requires-python verbatim and yank state."""
    served = node_served(client, name)
    assert served is not None, f"{name} not served"
    wanted = upstream_files(upstream, name)
    assert set(served) == set(wanted)
    for filename, (data, metadata, release) in wanted.items():
        got = served[filename]
        assert got.data == data, filename
        assert got.sha256 == hashlib.sha256(data).hexdigest()
        assert got.size == len(data)
        assert got.metadata == metadata, filename
        assert got.requires_python == (release.requires_python or None), filename
        expected_yank = (release.yanked_reason or True) if release.yanked else False
        assert got.yanked == expected_yank, filename


def store_problems() -> list[str]:
    """Rows whose blob (or metadata blob) is missing or not the bytes the row names."""
    storage = blob_storage()
    problems = []
    for dist in Distribution.objects.all():
        if not storage.exists(dist.blob_path):
            problems.append(f"{dist.filename}: blob missing")
            continue
        data = Path(storage.path(dist.blob_path)).read_bytes()
        if len(data) != dist.size or hashlib.sha256(data).hexdigest() != dist.sha256:
            problems.append(f"{dist.filename}: blob bytes differ from the row")
        if dist.core_metadata_sha256:
            meta = Path(storage.path(dist.metadata_blob_path))
            if not meta.exists():
                problems.append(f"{dist.filename}: metadata missing")
            elif hashlib.sha256(meta.read_bytes()).hexdigest() != dist.core_metadata_sha256:
                problems.append(f"{dist.filename}: metadata bytes differ from the row")
    return problems


def files_under(directory: Path, predicate: Callable[[str], bool] = lambda _: True) -> list[str]:
    found = []
    for folder, _dirs, names in os.walk(directory):
        found += [os.path.join(folder, n) for n in names if predicate(n)]
    return sorted(found)


def assert_catalog_consistent() -> None:
    """No duplicate rows, one journal entry per file added, and each project's serial is its
    newest journal entry."""
    assert not Distribution.objects.values("filename").annotate(n=Count("id")).filter(n__gt=1)
    assert not Project.objects.values("normalized_name").annotate(n=Count("id")).filter(n__gt=1)
    adds = JournalEntry.objects.filter(action__startswith="add ", action__contains=" file ")
    assert not adds.values("action").annotate(n=Count("id")).filter(n__gt=1)
    newest = dict(
        JournalEntry.objects.values("normalized_name")
        .annotate(newest=Max("id"))
        .values_list("normalized_name", "newest")
    )
    for name, serial in Project.objects.values_list("normalized_name", "last_serial"):
        assert serial == newest[name], name
