"""Checks shared by the pip and uv tests: what a finished install holds, what it fetched."""

import json
from pathlib import Path

from tests.support import clients
from tests.support.dists import DistSpec
from tests.support.servers import Request


def installed_versions(python: Path, chain: list[DistSpec]) -> dict[str, str]:
    """Import every module of the chain in the target venv; their VERSION by project name."""
    script = (
        "import importlib, json, sys\n"
        "print(json.dumps({m: importlib.import_module(m).VERSION for m in sys.argv[1:]}))\n"
    )
    modules = [spec.module for spec in chain]
    result = clients.run([python, "-I", "-c", script, *modules], env=clients.isolated_env())
    by_module = json.loads(result.stdout)
    return {spec.name: by_module[spec.module] for spec in chain}


def expected_versions(chain: list[DistSpec]) -> dict[str, str]:
    return {spec.name: spec.version for spec in chain}


def downloaded_files(requests: list[Request]) -> list[str]:
    """The file names fetched from /packages/ (metadata files excluded), successful or not."""
    return sorted(
        r.path.rsplit("/", 1)[-1]
        for r in requests
        if r.path.startswith("/packages/") and not r.path.endswith(".metadata")
    )
