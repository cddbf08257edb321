"""Partial mirrors through a real sync: each kind of rule decides what the node serves; rules made
stricter remove what they now exclude (journaled), rules made looser bring the rest in."""

import random

import pytest

from apps.catalog.models import Distribution, JournalEntry, Project
from apps.replication.clients import UpstreamUnusable
from apps.replication.models import ProjectSyncState, SyncRun, Upstream
from tests.support.dists import DistSpec, metadata_text, sdist_bytes, sdist_filename, wheel_bytes
from tests.support.upstream import Fault

from .helpers import assert_catalog_consistent, node_projects, store_problems, sync, upstream_for

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOLS = ["pypi-json", "xmlrpc", "simple"]


def platform_wheel(upstream, name: str, version: str, tag: str) -> str:
    """A real wheel under a platform-specific name (its bytes are a pure-Python wheel's)."""
    spec = DistSpec(name=name, version=version)
    filename = f"{spec.escaped}-{version}-{tag}.whl"
    upstream.add_raw_file(
        name,
        version,
        filename,
        wheel_bytes(spec),
        packagetype="bdist_wheel",
        python_version=tag.split("-")[0],
        metadata=metadata_text(spec).encode(),
    )
    return filename


def populate(upstream) -> None:
    upstream.add_release("Alpha", "1.0")
    upstream.add_release("Alpha", "2.0")
    upstream.add_release("Alpha", "3.0b1")
    upstream.add_release("beta", "1.0")
    # A big file (bytes that do not compress), read by no one: the release has a wheel.
    big = random.Random(11).randbytes(30_000)
    upstream.add_raw_file("beta", "1.0", "beta-1.0-py3.8.egg", big, packagetype="bdist_egg")
    upstream.add_release("gamma-evil", "1.0")
    platform_wheel(upstream, "native", "1.0", "cp312-cp312-win_amd64")
    platform_wheel(upstream, "native", "1.0", "cp312-cp312-manylinux_2_17_x86_64")
    platform_wheel(upstream, "native", "1.0", "cp27-cp27mu-manylinux1_x86_64")
    upstream.add_raw_file(
        "native",
        "1.0",
        "native-1.0.win32-py2.7.exe",
        b"a windows installer\n",
        packagetype="bdist_wininst",
        python_version="2.7",
    )
    spec = DistSpec(name="native", version="1.0")
    upstream.add_raw_file("native", "1.0", sdist_filename(spec), sdist_bytes(spec))
    upstream.write()


def held() -> set[str]:
    return set(Distribution.objects.values_list("filename", flat=True))


def every_file(upstream) -> set[str]:
    return {f.filename for p in upstream.projects.values() for _r, f in p.files()}


def set_rules(server, rules: dict) -> Upstream:
    row = upstream_for(server)
    Upstream.objects.filter(pk=row.pk).update(rules=rules)
    return row


def removals_after(serial: int) -> set[tuple[str, str]]:
    return {
        (e.normalized_name, e.action)
        for e in JournalEntry.objects.filter(id__gt=serial, action__startswith="remove")
    }


RULES = {
    "allow": (
        {"allow": ["alpha", "Native"]},
        lambda f: f.startswith(("alpha", "native")),
    ),
    "block_regex": ({"block_regex": ["-evil$"]}, lambda f: not f.startswith("gamma")),
    "versions": ({"versions": {"alpha": "<2"}}, lambda f: not f.startswith(("alpha-2", "alpha-3"))),
    "prereleases": ({"prereleases": False}, lambda f: "3.0b1" not in f),
    "latest": ({"latest": 1}, lambda f: not f.startswith(("alpha-1", "alpha-2"))),
    "platform": ({"exclude_platform_tags": ["win_*", "win32"]}, lambda f: "win" not in f),
    "python": (
        {"exclude_python_tags": ["cp27", "py27"]},
        lambda f: "cp27" not in f and "py2.7" not in f,
    ),
    "packagetype": ({"exclude_packagetypes": ["sdist"]}, lambda f: not f.endswith(".tar.gz")),
    "size": ({"max_file_size": 10_000}, lambda f: not f.endswith(".egg")),
    "project size": ({"max_project_size": "20K"}, lambda f: not f.startswith("beta")),
}


@pytest.mark.parametrize("kind", list(RULES))
def test_each_kind_of_rule_decides_what_a_first_sync_brings(server, upstream, kind):
    populate(upstream)
    rules, keeps = RULES[kind]
    set_rules(server, rules)

    run = sync(server)

    assert run.state == "succeeded", run.errors
    expected = {f for f in every_file(upstream) if keeps(f)}
    assert expected and expected != every_file(upstream)
    assert held() == expected
    assert store_problems() == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stricter_rules_remove_what_they_exclude_on_the_next_sync_journaled(
    server, upstream, client, protocol
):
    populate(upstream)
    row = upstream_for(server, protocol)
    sync(server, protocol=protocol)
    assert held() == every_file(upstream)
    journal = JournalEntry.objects.latest("id").id
    Upstream.objects.filter(pk=row.pk).update(
        rules={"block": ["gamma-evil"], "prereleases": False, "exclude_platform_tags": ["win*"]}
    )
    server.clear_requests()

    run = sync(server, protocol=protocol)

    assert run.state == "succeeded", run.errors
    assert server.requests(kind="file") == []
    assert held() == {
        f
        for f in every_file(upstream)
        if not f.startswith("gamma") and "3.0b1" not in f and "win" not in f
    }
    assert "gamma-evil" not in {n.lower() for n in node_projects(client)}
    assert Project.objects.get(normalized_name="gamma-evil").status == Project.Status.DELETED
    assert removals_after(journal) == {
        ("alpha", "remove file alpha-3.0b1-py3-none-any.whl"),
        ("alpha", "remove file alpha-3.0b1.tar.gz"),
        ("alpha", "remove release"),
        ("native", "remove file native-1.0-cp312-cp312-win_amd64.whl"),
        ("native", "remove file native-1.0.win32-py2.7.exe"),
        ("gamma-evil", "remove project"),
    }
    assert_catalog_consistent()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_looser_rules_bring_in_what_they_now_allow_and_then_syncs_are_o_changes(
    server, upstream, protocol
):
    populate(upstream)
    row = upstream_for(server, protocol)
    Upstream.objects.filter(pk=row.pk).update(rules={"allow": ["alpha"], "latest": 1})
    sync(server, protocol=protocol)
    assert held() == {"alpha-3.0b1-py3-none-any.whl", "alpha-3.0b1.tar.gz"}
    Upstream.objects.filter(pk=row.pk).update(rules={"allow": ["alpha", "beta"]})

    run = sync(server, protocol=protocol)

    assert run.state == "succeeded", run.errors
    assert held() == {f for f in every_file(upstream) if f.startswith(("alpha", "beta"))}
    server.clear_requests()
    again = sync(server, protocol=protocol)
    assert again.projects_planned == 0
    assert {r.kind for r in server.requests()} <= {"root", "xmlrpc"}


def test_a_project_the_rules_exclude_is_never_asked_for(server, upstream):
    populate(upstream)
    set_rules(server, {"block": ["beta"]})

    sync(server)

    assert "beta" not in server.requested_projects()
    assert not Project.objects.filter(normalized_name="beta").exists()


def test_project_that_fails_under_new_rules_is_retried_until_they_are_applied(server, upstream):
    populate(upstream)
    row = upstream_for(server)
    sync(server)
    Upstream.objects.filter(pk=row.pk).update(rules={"prereleases": False})
    server.add_fault(Fault(status=503), project="alpha")

    failed = sync(server)

    assert failed.projects_failed == 1
    assert "alpha-3.0b1.tar.gz" in held()
    server.clear_faults()
    ProjectSyncState.objects.update(next_retry=None)
    server.clear_requests()

    retried = sync(server)

    assert (retried.state, retried.projects_planned) == ("succeeded", 1)
    assert server.requested_projects() == {"alpha"}
    assert not {f for f in held() if "3.0b1" in f}


def test_rules_stored_without_checks_fail_the_run_naming_them(server, upstream):
    populate(upstream)
    row = set_rules(server, {"prereleases": "no"})

    with pytest.raises(UpstreamUnusable, match="bad rules: prereleases: must be true or false"):
        sync(row)

    assert SyncRun.objects.get().error.startswith("bad rules: prereleases")
    assert not Project.objects.exists()
