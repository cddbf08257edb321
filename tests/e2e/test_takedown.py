"""A takedown on node A, followed down a chain of live nodes: pypiserver → A → B → C.

One scenario, each step a module fixture that records what the nodes served right after it:
the chain synced; ``manage.py takedown`` of one file on A (410 on A at once); B, then C, sync;
pypiserver gains a release and A syncs again (the file stays down); ``--lift`` on A, then A, B
and C sync (the file is back everywhere, byte for byte). B and C mirror everything: their own
rules would allow the file, and they drop it because A no longer lists it.
"""

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.servers import LiveServer, PypiServer, live_server, pypiserver

from .nodes import listed_files, served_files, sha256s, sync

pytestmark = pytest.mark.e2e

WHEEL = "victim-1.0-py3-none-any.whl"


@dataclass
class Step:
    """What each node served (filename → sha256 of the bytes) after a step, and how the
    taken-down file's URL on A answered."""

    output: str
    served: dict[str, dict[str, str]]  # node name → its files
    a_file_status: int
    a_metadata_status: int


def _step(output: str, nodes: dict[str, LiveServer], file_url: str) -> Step:
    return Step(
        output=output,
        served={name: served_files(node.url) for name, node in nodes.items()},
        a_file_status=httpx.get(file_url, timeout=10).status_code,
        a_metadata_status=httpx.get(f"{file_url}.metadata", timeout=10).status_code,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Iterator[PypiServer]:
    directory = tmp_path_factory.mktemp("takedown-origin")
    build_wheel(DistSpec("victim", "1.0"), directory)
    build_sdist(DistSpec("victim", "1.0"), directory)
    build_wheel(DistSpec("bystander", "1.0"), directory)
    with pypiserver(directory) as server:
        yield server


@pytest.fixture(scope="module")
def chain(origin) -> Iterator[dict[str, LiveServer]]:
    """A follows pypiserver, B follows A, C follows B; each synced once."""
    with live_server() as a, live_server() as b, live_server() as c:
        _ok(sync(a, origin.index_url))
        _ok(sync(b, f"{a.url}/"))
        _ok(sync(c, f"{b.url}/"))
        yield {"a": a, "b": b, "c": c}


def _sync_chain(chain: dict[str, LiveServer], origin: PypiServer | None = None) -> str:
    output = _ok(sync(chain["a"], origin.index_url)) if origin is not None else ""
    output += _ok(sync(chain["b"], f"{chain['a'].url}/"))
    return output + _ok(sync(chain["c"], f"{chain['b'].url}/"))


@pytest.fixture(scope="module")
def before(chain) -> dict[str, str]:
    """The file as the chain served it first, and its URL on A."""
    entry = listed_files(chain["a"].url)[WHEEL]
    assert all(WHEEL in served_files(node.url) for node in chain.values())
    return {"url": entry.url, "sha256": served_files(chain["a"].url)[WHEEL]}


@pytest.fixture(scope="module")
def taken_down(chain, before) -> Step:
    result = chain["a"].manage(
        "takedown", "victim", "--file", WHEEL, "--reason", "malware report #1", check=False
    )
    return _step(_ok(result), {"a": chain["a"]}, before["url"])


@pytest.fixture(scope="module")
def followed(taken_down, chain, before) -> Step:
    """B, then C, sync: nothing changed on pypiserver."""
    return _step(_sync_chain(chain), chain, before["url"])


@pytest.fixture(scope="module")
def resynced(followed, chain, origin, before) -> Step:
    """pypiserver gains victim 2.0; A syncs from it (reading victim's page again), B and C
    follow."""
    build_wheel(DistSpec("victim", "2.0"), origin.directory)
    return _step(_sync_chain(chain, origin), chain, before["url"])


@pytest.fixture(scope="module")
def lifted(resynced, chain, origin, before) -> Step:
    result = chain["a"].manage("takedown", "victim", "--file", WHEEL, "--lift", check=False)
    output = _ok(result) + _sync_chain(chain, origin)
    return _step(output, chain, before["url"])


def test_takedown_on_a_answers_410_at_once_for_the_file_and_its_metadata(taken_down):
    assert f"Took down file {WHEEL}" in taken_down.output
    assert WHEEL not in taken_down.served["a"]
    assert (taken_down.a_file_status, taken_down.a_metadata_status) == (410, 410)


def test_nodes_below_remove_the_file_at_their_next_sync(followed):
    for node in ("a", "b", "c"):
        assert WHEEL not in followed.served[node], node
        assert "victim-1.0.tar.gz" in followed.served[node], node  # the rest stays


def test_later_syncs_never_bring_it_back_while_the_takedown_stands(resynced, origin):
    upstream = sha256s(Path(origin.directory))
    for node in ("a", "b", "c"):
        assert WHEEL not in resynced.served[node], node
        assert resynced.served[node] == {n: h for n, h in upstream.items() if n != WHEEL}, node
    assert resynced.a_file_status == 410


def test_lifting_it_brings_it_back_everywhere_byte_for_byte(lifted, before, origin):
    assert "Served again: " + WHEEL in lifted.output
    for node in ("a", "b", "c"):
        assert lifted.served[node] == sha256s(Path(origin.directory)), node
        assert lifted.served[node][WHEEL] == before["sha256"], node
    assert lifted.a_file_status == 200
