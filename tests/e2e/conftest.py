"""Live servers shared by the end-to-end tests; clients only read from them."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import clients
from tests.support.dists import DistSpec, build_chain, build_sdist, build_wheel, file_sha256
from tests.support.servers import LiveServer, live_server

YANK_REASON = 'broken <build> & "quotes"'


@dataclass(frozen=True)
class NodeContent:
    """What a test server was filled with: the files themselves are the truth to compare with."""

    directory: Path
    wheel_chain: list[DistSpec]
    sdist_chain: list[DistSpec]

    @property
    def files(self) -> dict[str, Path]:
        return {p.name: p for p in sorted(self.directory.iterdir()) if p.is_file()}

    def sha256s(self) -> dict[str, str]:
        return {name: file_sha256(path) for name, path in self.files.items()}


@pytest.fixture(scope="session")
def node_content(tmp_path_factory) -> NodeContent:
    """Two chains (one wheels only, one sdists only), PyPI's setuptools wheel to build the
    sdists with, and a project with an odd name, requires-python and a yanked release."""
    directory = tmp_path_factory.mktemp("node-dists")
    wheel_chain = build_chain(directory, prefix="wheelchain", sdists=False)
    sdist_chain = build_chain(directory, prefix="sdistchain", wheels=False)
    for version in ("1.0", "2.0"):
        spec = DistSpec(name="Odd.Name_Project", version=version, requires_python=">=3.8,<4")
        build_wheel(spec, directory)
        build_sdist(spec, directory)
    shutil.copy(clients.setuptools_wheel(), directory)
    return NodeContent(directory=directory, wheel_chain=wheel_chain, sdist_chain=sdist_chain)


@pytest.fixture(scope="session")
def index_server(node_content) -> Iterator[LiveServer]:
    """The production profile on the suite's database (PostgreSQL in CI)."""
    with live_server(dists=[node_content.directory]) as server:
        server.manage(
            "shell",
            "-c",
            "from django.db import transaction\n"
            "from apps.catalog.services import project_lock, release_set_yanked\n"
            "with transaction.atomic():\n"
            "    project = project_lock(name='odd-name-project')\n"
            "    release = project.releases.get(version='1.0')\n"
            f"    release_set_yanked(release=release, reason={YANK_REASON!r})\n",
        )
        yield server


@pytest.fixture(scope="session")
def embedded_content(tmp_path_factory) -> NodeContent:
    """One chain, as wheels and as sdists."""
    directory = tmp_path_factory.mktemp("embedded-dists")
    chain = build_chain(directory, prefix="localchain")
    return NodeContent(directory=directory, wheel_chain=chain, sdist_chain=chain)


@pytest.fixture(scope="session")
def embedded_server(embedded_content) -> Iterator[LiveServer]:
    """The embedded default: local settings, no DATABASE_URL (SQLite beside the store), and
    gunicorn with no GUNICORN_* settings (gevent workers), as bin/run starts it."""
    with live_server(
        dists=[embedded_content.directory],
        database="embedded",
        settings="pypimirror.settings.local",
        workers=None,
        threads=None,
    ) as server:
        yield server
