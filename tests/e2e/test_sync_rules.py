"""Partial mirrors across real nodes: B follows A, C follows B. B's rules are made stricter
(``upstream_rules --set``); B's next sync removes what they exclude, journaled, and C's next
sync from B removes it too. D, new, syncs two named projects of A: its allow-list, then its
periodic sync, bring only those."""

import json
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.servers import LiveServer, live_server

from .nodes import node_serial, project_names, served_files, sha256s, sync

pytestmark = pytest.mark.e2e

STRICTER = {"block": ["gamma"], "prereleases": False, "exclude_packagetypes": ["sdist"]}
EXCLUDED = {
    "alpha-3.0b1-py3-none-any.whl",
    "alpha-1.0.tar.gz",
    "beta-1.0.tar.gz",
    "gamma-1.0-py3-none-any.whl",
}


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("rules-dists")
    for version in ("1.0", "2.0", "3.0b1"):
        build_wheel(DistSpec(name="alpha", version=version), directory)
    build_sdist(DistSpec(name="alpha", version="1.0"), directory)
    build_wheel(DistSpec(name="beta", version="1.0"), directory)
    build_sdist(DistSpec(name="beta", version="1.0"), directory)
    build_wheel(DistSpec(name="gamma", version="1.0"), directory)
    return directory


@pytest.fixture(scope="module")
def nodes(dists) -> Iterator[dict[str, LiveServer]]:
    with (
        live_server(dists=[dists]) as a,
        live_server() as b,
        live_server() as c,
        live_server() as d,
    ):
        yield {"a": a, "b": b, "c": c, "d": d}


def upstream_name(node: LiveServer) -> str:
    return node.shell(
        "from apps.replication.models import Upstream\nprint(Upstream.objects.get().name)"
    ).stdout.splitlines()[-1]


def changelog(node: LiveServer, since: int) -> set[tuple[str, str]]:
    """(project, action) of the node's changelog after ``since``, read over XML-RPC as
    bandersnatch and other mirrors read it."""
    proxy = xmlrpc.client.ServerProxy(f"{node.url}/pypi")
    return {(entry[0], entry[3]) for entry in proxy.changelog_since_serial(since)}


@dataclass
class Stricter:
    set_rules: str
    b_sync: str
    c_sync: str
    b_changes: set[tuple[str, str]]
    c_changes: set[tuple[str, str]]
    b_served: dict[str, str]
    c_served: dict[str, str]
    b_projects: list[str]
    c_projects: list[str]


@pytest.fixture(scope="module")
def stricter(nodes, dists, tmp_path_factory) -> Stricter:
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    assert sync(b, f"{a.url}/").returncode == 0
    assert sync(c, f"{b.url}/").returncode == 0
    assert served_files(c.url) == sha256s(dists)
    b_serial, c_serial = node_serial(b.url), node_serial(c.url)
    rules = tmp_path_factory.mktemp("rules") / "rules.json"
    rules.write_text(json.dumps(STRICTER))

    set_rules = b.manage("upstream_rules", upstream_name(b), "--set", str(rules))
    b_sync = sync(b, f"{a.url}/")
    c_sync = sync(c, f"{b.url}/")

    return Stricter(
        set_rules=set_rules.stdout,
        b_sync=b_sync.stdout + b_sync.stderr,
        c_sync=c_sync.stdout + c_sync.stderr,
        b_changes=changelog(b, b_serial),
        c_changes=changelog(c, c_serial),
        b_served=served_files(b.url),
        c_served=served_files(c.url),
        b_projects=project_names(b.url),
        c_projects=project_names(c.url),
    )


def test_stricter_rules_are_set_by_command(stricter):
    assert "its next sync applies them" in stricter.set_rules
    assert "Run #2 succeeded" in stricter.b_sync, stricter.b_sync


def test_next_sync_removes_what_the_stricter_rules_exclude(stricter, dists):
    expected = {n: h for n, h in sha256s(dists).items() if n not in EXCLUDED}
    assert stricter.b_served == expected
    assert stricter.b_projects == ["alpha", "beta"]


def test_the_removals_are_journaled(stricter):
    assert stricter.b_changes == {
        ("alpha", "remove file alpha-3.0b1-py3-none-any.whl"),
        ("alpha", "remove release"),
        ("alpha", "remove file alpha-1.0.tar.gz"),
        ("beta", "remove file beta-1.0.tar.gz"),
        ("gamma", "remove project"),
    }


def test_a_node_following_removes_them_too(stricter):
    assert "succeeded" in stricter.c_sync, stricter.c_sync
    assert stricter.c_served == stricter.b_served
    assert stricter.c_projects == ["alpha", "beta"]
    assert stricter.c_changes == stricter.b_changes


@pytest.fixture(scope="module")
def named(nodes, dists, tmp_path_factory) -> dict:
    """D syncs alpha and beta of A by name; A gains a project and releases; D's periodic sync
    (the task, run directly, its project batches run as a worker would) follows."""
    a, d = nodes["a"], nodes["d"]
    first = sync(d, f"{a.url}/", "--project", "alpha", "--project", "Beta")
    first_served = served_files(d.url)
    more = tmp_path_factory.mktemp("rules-more")
    for name in ("alpha", "delta"):
        build_wheel(DistSpec(name=name, version="4.0"), more)
    a.manage("import_dists", str(more))
    periodic = d.shell(
        "from pypimirror.celery import app\n"
        "from apps.replication.models import SyncRun, Upstream\n"
        "from apps.replication.tasks import sync_upstream\n"
        "app.conf.task_always_eager = True\n"
        "upstream = Upstream.objects.get()\n"
        "print(upstream.rules)\n"
        "print(SyncRun.objects.get(pk=sync_upstream(upstream.pk)).state)\n"
    )
    return {
        "first": first,
        "first_served": first_served,
        "periodic": periodic.stdout,
        "served": served_files(d.url),
        "projects": project_names(d.url),
        "dists": sha256s(dists) | sha256s(more),
    }


def test_named_projects_on_a_new_upstream_bring_only_those(named):
    assert named["first"].returncode == 0, named["first"].stderr
    assert {n.split("-")[0] for n in named["first_served"]} == {"alpha", "beta"}
    assert named["first_served"] == {
        n: h
        for n, h in named["dists"].items()
        if n.startswith(("alpha-", "beta-")) and "4.0" not in n
    }


def test_its_periodic_sync_brings_only_those_too(named):
    assert named["periodic"].splitlines()[-2:] == ["{'allow': ['alpha', 'beta']}", "succeeded"]
    assert named["projects"] == ["alpha", "beta"]
    assert named["served"] == {
        n: h for n, h in named["dists"].items() if n.startswith(("alpha-", "beta-"))
    }
