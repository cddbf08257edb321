"""Planning from the upstream's changelog, and falling back to its listing when it fails."""

import pytest
from django.utils import timezone

from apps.catalog.models import Project
from apps.replication.clients.base import ChangelogUnavailable, UpstreamError
from apps.replication.models import ProjectSyncState, SyncRun, Upstream
from apps.replication.planner import CHANGELOG_ASK_AGAIN
from apps.replication.services import sync_run_start
from tests.replication import test_planner
from tests.replication.test_planner import kept, plan, reached
from tests.support.upstream.faults import Fault

pytestmark = pytest.mark.django_db

listed = test_planner.listed  # the fixture: three projects on a live upstream


def test_pypi_json_plan_reads_the_changelog_when_the_upstream_answers_it(listed, upstream):
    kept(plan(listed))
    reached(upstream, alpha=0)
    ProjectSyncState.objects.filter(normalized_name="alpha").update(
        serial_wanted=upstream.project("alpha").last_serial, next_retry=timezone.now()
    )
    upstream.add_release("gamma", "2.0", sdist=False)
    upstream.delete_project("beta")
    upstream.write()
    listed.clear_requests()

    result = plan(listed)

    assert result.projects == {
        "alpha": ("Alpha", upstream.project("alpha").last_serial),  # its retry is due
        "gamma": ("gamma", upstream.project("gamma").last_serial),
        "beta": ("beta", upstream.serial),
    }
    assert result.serial == upstream.serial
    assert [r.kind for r in listed.requests()] == ["xmlrpc"]  # never the listing


def test_changelog_plan_visits_removals_left_unfinished(listed, upstream):
    kept(plan(listed))
    reached(upstream)
    Project.objects.create(name="Old", normalized_name="old")  # its removal failed last time
    ProjectSyncState.objects.create(
        upstream=Upstream.objects.get(), normalized_name="old", name="Old", listed=False
    )

    result = plan(listed)

    assert (result.projects, result.gone) == ({"old": ("old", None)}, {"old"})


@pytest.mark.parametrize(
    "fault",
    [Fault(status=404), Fault(status=500), Fault(malformed_json=True), Fault(truncate=10)],
    ids=["404", "500", "garbled", "cut-short"],
)
def test_pypi_json_plan_reads_the_listing_when_the_changelog_fails(listed, upstream, fault):
    kept(plan(listed))
    reached(upstream)
    upstream.add_release("beta", "2.0", sdist=False)
    upstream.write()
    listed.add_fault(fault, kind="xmlrpc")
    listed.clear_requests()

    result = plan(listed)

    assert set(result.projects) == {"beta"}
    assert [r.kind for r in listed.requests()] == ["xmlrpc", "root"]


def test_xmlrpc_plan_fails_when_its_changelog_fails(listed, upstream):
    plan(listed, protocol="xmlrpc")
    Upstream.objects.update(last_serial=upstream.serial)
    listed.add_fault(Fault(status=500), kind="xmlrpc")

    with pytest.raises(UpstreamError) as failure:
        plan(listed, protocol="xmlrpc")
    assert not isinstance(failure.value, ChangelogUnavailable)


@pytest.mark.parametrize(
    ("fault", "missing"),
    [(Fault(status=404), True), (Fault(status=405), True), (Fault(status=501), True),
     (Fault(status=500), None), (Fault(status=503), None), (Fault(truncate=10), None)],
    ids=["404", "405", "501", "500", "503", "cut-short"],
)  # fmt: skip
def test_an_upstream_without_xmlrpc_is_told_apart_from_one_that_failed(
    listed, upstream, fault, missing
):
    kept(plan(listed))
    reached(upstream)
    listed.add_fault(fault, kind="xmlrpc")

    assert plan(listed).changelog_missing is missing


def test_a_sync_remembers_for_a_day_that_the_upstream_has_no_changelog(listed, upstream):
    kept(plan(listed))
    reached(upstream)
    listed.add_fault(Fault(status=404), kind="xmlrpc")
    row = Upstream.objects.get()

    sync_run_start(upstream=row, trigger=SyncRun.Trigger.COMMAND)
    row.refresh_from_db()
    assert row.changelog_missing_since is not None
    listed.clear_requests()
    sync_run_start(upstream=row, trigger=SyncRun.Trigger.COMMAND)
    assert [r.kind for r in listed.requests()] == ["root"]  # not asked again

    # a day later it is asked again; once it answers, it is asked every time
    Upstream.objects.update(changelog_missing_since=timezone.now() - CHANGELOG_ASK_AGAIN)
    listed.clear_faults()
    row.refresh_from_db()
    listed.clear_requests()
    sync_run_start(upstream=row, trigger=SyncRun.Trigger.COMMAND)
    assert [r.kind for r in listed.requests()] == ["xmlrpc"]
    row.refresh_from_db()
    assert row.changelog_missing_since is None
