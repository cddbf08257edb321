"""Planning: which projects a sync visits, from the upstream's serials and our per-project state."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.catalog.models import Project
from apps.replication.clients import client_for
from apps.replication.models import ProjectSyncState, Upstream
from apps.replication.planner import plan_sync
from tests.support.upstream.faults import Fault

pytestmark = pytest.mark.django_db


def without_changelog(server) -> None:
    """The upstream answers no XML-RPC: a pypi-json plan reads the listing, as from an index
    with PEP 691 serials but no changelog."""
    server.add_fault(Fault(status=404), kind="xmlrpc")


@pytest.fixture
def listed(server, upstream):
    for name in ("Alpha", "beta", "gamma"):
        upstream.add_release(name, "1.0", sdist=False)
    upstream.write()
    return server


def plan(server, protocol: str = "pypi-json", **kwargs):
    row, _ = Upstream.objects.get_or_create(
        url=server.url, defaults={"name": "up", "protocol": protocol}
    )
    with httpx.Client() as http:
        return plan_sync(
            upstream=row, client=client_for(url=row.url, protocol=protocol, http=http), **kwargs
        )


def reached(upstream, **overrides) -> None:
    """Record every project as synced up to the upstream's serial (or ``overrides``)."""
    row = Upstream.objects.get()
    for normalized, project in upstream.projects.items():
        serial = overrides.get(normalized, project.last_serial)
        ProjectSyncState.objects.update_or_create(
            upstream=row,
            normalized_name=normalized,
            defaults={"name": project.name, "serial_reached": serial, "serial_wanted": serial},
        )


def test_first_plan_visits_every_listed_project_with_its_serial(listed, upstream):
    result = plan(listed)

    assert result.projects == {n: (p.name, p.last_serial) for n, p in upstream.projects.items()}
    assert result.serial == upstream.serial


def test_plan_visits_only_projects_whose_serial_moved(listed, upstream):
    plan(listed)
    reached(upstream)
    upstream.add_release("beta", "2.0", sdist=False)
    upstream.write()

    result = plan(listed)

    assert result.projects == {"beta": ("beta", upstream.project("beta").last_serial)}


def test_nothing_changed_plans_nothing(listed, upstream):
    plan(listed)
    reached(upstream)

    assert plan(listed).projects == {}


def test_failed_project_waits_for_its_retry_time(listed, upstream):
    plan(listed)
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial,
        next_retry=timezone.now() + timedelta(minutes=5),
    )

    assert plan(listed).projects == {}
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        next_retry=timezone.now() - timedelta(seconds=1)
    )
    assert set(plan(listed).projects) == {"alpha"}


def test_failed_project_that_changed_again_is_visited_before_its_retry_time(listed, upstream):
    plan(listed)
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial,
        next_retry=timezone.now() + timedelta(minutes=5),
    )
    upstream.add_release("Alpha", "2.0", sdist=False)
    upstream.write()

    assert set(plan(listed).projects) == {"alpha"}


def test_project_gone_from_the_listing_but_served_here_is_visited(listed, upstream):
    plan(listed)
    reached(upstream)
    Project.objects.create(name="gamma", normalized_name="gamma")
    upstream.delete_project("gamma")
    upstream.write()

    result = plan(listed)

    assert result.projects == {"gamma": ("gamma", None)}
    assert result.gone == {"gamma"}


def test_project_gone_and_already_removed_here_is_not_visited(listed, upstream):
    plan(listed)
    reached(upstream)
    Project.objects.create(name="gamma", normalized_name="gamma", status=Project.Status.DELETED)
    upstream.delete_project("gamma")
    upstream.write()

    assert plan(listed).projects == {}


def test_unchanged_upstream_serial_plans_only_what_the_last_plan_left_unfinished(listed, upstream):
    plan(listed)
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial, next_retry=timezone.now()
    )
    Project.objects.create(name="Old", normalized_name="old")  # its removal failed last time
    ProjectSyncState.objects.create(
        upstream=Upstream.objects.get(), normalized_name="old", name="Old", listed=False
    )
    # Not compared again: with the serial unchanged, only unfinished work is looked up. (A full
    # comparison would plan beta, whose state is missing, as new.)
    ProjectSyncState.objects.filter(normalized_name="beta").delete()
    Upstream.objects.update(last_serial=upstream.serial)

    result = plan(listed)

    assert result.projects == {
        "alpha": ("Alpha", upstream.project("alpha").last_serial),
        "old": ("old", None),
    }
    assert (result.gone, result.serial) == ({"old"}, upstream.serial)


def test_moved_upstream_serial_compares_every_project(listed, upstream):
    without_changelog(listed)
    plan(listed)
    reached(upstream)
    ProjectSyncState.objects.filter(normalized_name="beta").delete()
    Upstream.objects.update(last_serial=upstream.serial - 1)

    assert set(plan(listed).projects) == {"beta"}


def kept(result) -> None:
    """What sync_run_start keeps of a full plan: its serial and its listing's ETag."""
    Upstream.objects.update(last_serial=result.serial, listing_etag=result.listing_etag)


def test_unchanged_listing_is_not_read_again_and_plans_only_unfinished_work(listed, upstream):
    without_changelog(listed)
    kept(first := plan(listed))
    assert first.listing_etag.startswith('"')
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial
    )
    listed.clear_requests()

    result = plan(listed)

    changelog, root = listed.requests()
    assert (changelog.kind, changelog.status) == ("xmlrpc", 404)
    assert (root.kind, root.status) == ("root", 304)
    assert root.headers["If-None-Match"] == first.listing_etag
    assert result.projects == {"alpha": ("Alpha", upstream.project("alpha").last_serial)}
    assert (result.serial, result.listing_etag) == (upstream.serial, first.listing_etag)


def test_changed_listing_is_read_and_compared(listed, upstream):
    without_changelog(listed)
    kept(plan(listed))
    reached(upstream)
    upstream.add_release("beta", "2.0", sdist=False)
    upstream.write()
    listed.clear_requests()

    result = plan(listed)

    assert [(r.kind, r.status) for r in listed.requests()] == [("xmlrpc", 404), ("root", 200)]
    assert set(result.projects) == {"beta"}
    assert result.listing_etag not in ("", Upstream.objects.get().listing_etag)


def test_listing_without_every_serial_keeps_no_etag(listed, upstream):
    # A simple-only upstream's listing gives no serials: a 304 would not mean "nothing changed".
    result = plan(listed, protocol="simple")

    assert result.listing_etag == ""


def test_xmlrpc_plan_reads_the_changelog_since_the_serial_reached(listed, upstream):
    plan(listed, protocol="xmlrpc")
    reached(upstream)
    Upstream.objects.update(last_serial=upstream.serial)
    upstream.add_release("gamma", "2.0", sdist=False)
    upstream.delete_project("beta")
    upstream.write()
    listed.clear_requests()

    result = plan(listed, protocol="xmlrpc")

    assert result.projects == {
        "gamma": ("gamma", upstream.project("gamma").last_serial),
        "beta": ("beta", upstream.serial),
    }
    assert result.serial == upstream.serial
    assert {r.kind for r in listed.requests()} == {"xmlrpc"}


def test_xmlrpc_plan_adds_failed_projects_whose_retry_is_due(listed, upstream):
    plan(listed, protocol="xmlrpc")
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial, next_retry=timezone.now()
    )
    ProjectSyncState.objects.filter(normalized_name="beta").update(
        serial_reached=0, next_retry=timezone.now() + timedelta(minutes=5)
    )
    Upstream.objects.update(last_serial=upstream.serial)

    result = plan(listed, protocol="xmlrpc")

    assert set(result.projects) == {"alpha"}


@pytest.mark.parametrize("protocol", ["pypi-json", "xmlrpc", "simple"])
def test_named_projects_are_planned_whatever_their_serial_without_the_listing(
    listed, upstream, protocol
):
    plan(listed, protocol=protocol)
    reached(upstream)
    listed.clear_requests()

    result = plan(listed, protocol=protocol, only=["ALPHA", "not-listed"])

    assert result.projects == {"alpha": ("alpha", None), "not-listed": ("not-listed", None)}
    assert result.serial is None  # a run of a few projects reaches no upstream serial
    assert listed.requests() == []  # PyPI's listing is tens of MB: not read for a few names


# Rules (partial mirrors)


def ruled(rules: dict) -> None:
    Upstream.objects.update(rules=rules)


def test_projects_the_rules_exclude_are_never_planned(listed, upstream):
    plan(listed)
    ruled({"block": ["beta"], "allow": ["alpha", "beta"]})

    result = plan(listed)

    assert set(result.projects) == {"alpha"}
    assert result.rules_changed


def test_changed_rules_visit_every_project_they_let_in_without_the_listing_shortcut(
    listed, upstream
):
    kept(plan(listed))
    reached(upstream)
    assert plan(listed).projects == {}
    ruled({"prereleases": False})
    listed.clear_requests()

    result = plan(listed)

    assert [(r.kind, r.status) for r in listed.requests()] == [("root", 200)]
    assert result.projects == {n: (p.name, p.last_serial) for n, p in upstream.projects.items()}
    assert result.rules_changed and result.rules_applied


def test_rules_once_applied_plan_only_changes_again(listed, upstream):
    without_changelog(listed)
    ruled({"block": ["gamma"]})
    kept(first := plan(listed))
    Upstream.objects.update(rules_applied=first.rules_applied)
    reached(upstream)
    listed.clear_requests()

    result = plan(listed)

    assert result.projects == {}
    assert not result.rules_changed
    assert [(r.kind, r.status) for r in listed.requests()] == [("xmlrpc", 404), ("root", 304)]


def test_project_served_here_that_the_rules_now_exclude_is_visited_as_gone(listed, upstream):
    plan(listed)
    reached(upstream)
    Project.objects.create(name="gamma", normalized_name="gamma")
    ruled({"block_regex": ["^gam"]})

    result = plan(listed)

    assert result.projects["gamma"] == ("gamma", None)
    assert result.gone == {"gamma"}


def test_xmlrpc_plan_reads_the_listing_when_the_rules_changed_and_filters_the_changelog(
    listed, upstream
):
    plan(listed, protocol="xmlrpc")
    reached(upstream)
    Upstream.objects.update(last_serial=upstream.serial)
    ruled({"allow": ["alpha", "gamma"]})

    changed = plan(listed, protocol="xmlrpc")

    assert set(changed.projects) == {"alpha", "gamma"}
    Upstream.objects.update(rules_applied=changed.rules_applied)
    upstream.add_release("gamma", "2.0", sdist=False)
    upstream.add_release("beta", "2.0", sdist=False)
    upstream.write()
    assert set(plan(listed, protocol="xmlrpc").projects) == {"gamma"}


def test_named_projects_the_rules_exclude_are_not_planned(listed, upstream):
    plan(listed)
    ruled({"block": ["alpha"]})

    assert set(plan(listed, only=["alpha", "beta"]).projects) == {"beta"}
