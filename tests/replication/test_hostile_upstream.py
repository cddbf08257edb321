"""A hostile or broken upstream: every fault is one project's recorded error, the run goes on for
the others, nothing of the bad answer is stored, and a later sync with the fault gone converges."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.catalog.models import Distribution, Project
from apps.replication.models import ProjectSyncState, SyncRun
from tests.support.upstream import Fault

from .helpers import assert_node_mirrors, files_under, node_served, store_problems, sync

pytestmark = pytest.mark.django_db(transaction=True)

PROTOCOLS = ["pypi-json", "xmlrpc", "simple"]
HEALTHY = ["healthy-one", "healthy-two"]
# project → (fault, kind of request it hits: "page" is the protocol's project page, and what the
# project's recorded error says)
PAGE_FAULTS = {
    "p-5xx": (Fault(status=503), "page", "503"),
    "p-badjson": (Fault(malformed_json=True), "page", ""),
    "p-dotdot": (Fault(evil_filename="../../evil-1.0-py3-none-any.whl"), "page", "unsafe"),
    "p-slash": (Fault(evil_filename="sub/evil-1.0-py3-none-any.whl"), "page", "unsafe"),
    "p-backslash": (Fault(evil_filename="..\\evil-1.0-py3-none-any.whl"), "page", "unsafe"),
}
FILE_FAULTS = {
    "p-500-file": (Fault(status=500), "file", "500"),
    "p-timeout": (Fault(delay=3.0), "file", "timed out"),
    "p-truncated": (Fault(truncate=100), "file", ""),
    "p-corrupt": (Fault(corrupt=True), "file", "sha256"),
    "p-oversize": (Fault(oversize=4096), "file", "bytes"),
    "p-reset": (Fault(reset=True), "file", ""),
}
FAULTS = {**PAGE_FAULTS, **FILE_FAULTS}
STALE = "p-stale"
EVIL = ("p-dotdot", "p-slash", "p-backslash")


@pytest.fixture
def hostile(server, upstream, settings):
    """Healthy projects, one project per fault, and a stale one; the faults armed."""
    settings.PYPIMIRROR_HTTP_TIMEOUT = 0.5
    for name in [*HEALTHY, *FAULTS, STALE]:
        # One file where a fault costs a timeout, two (wheel, sdist) elsewhere.
        upstream.add_release(name, "1.0", sdist=name != "p-timeout")
    upstream.write()
    return server


def arm(server, protocol: str) -> None:
    page = "simple"  # every protocol reads a project from its PEP 691 page (pypi-json's alone)
    for name, (fault, kind, _message) in FAULTS.items():
        server.add_fault(fault, project=name, kind=page if kind == "page" else kind)
    server.add_fault(Fault(stale=True), project=STALE, kind=page)


def backoff_elapses() -> None:
    """Time passes: every project's retry is due."""
    ProjectSyncState.objects.filter(next_retry__isnull=False).update(
        next_retry=timezone.now() - timedelta(seconds=1)
    )


def evil_files(tmp_path) -> list[str]:
    upstream_root = str(tmp_path / "upstream")
    return [p for p in files_under(tmp_path, lambda n: "evil" in n) if upstream_root not in p]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_fault_is_recorded_on_its_project_and_the_run_goes_on(
    hostile, upstream, client, protocol
):
    arm(hostile, protocol)

    run = sync(hostile, protocol=protocol)

    assert run.state == SyncRun.State.PARTIAL
    assert run.projects_planned == len(HEALTHY) + len(FAULTS) + 1
    assert (run.projects_done, run.projects_failed, run.projects_skipped) == (
        len(HEALTHY) + 0,
        len(FAULTS),
        1,
    )
    errors = {e["project"]: e["error"] for e in run.errors}
    assert set(errors) == {*FAULTS, STALE}
    for name, (_fault, _kind, message) in FAULTS.items():
        assert message in errors[name], (name, errors[name])
    assert "older than" in errors[STALE]
    for name in HEALTHY:
        assert_node_mirrors(client, upstream, name)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_of_a_bad_answer_is_stored(hostile, upstream, blob_store, tmp_path, protocol):
    arm(hostile, protocol)

    sync(hostile, protocol=protocol)

    # Page faults that name real files still let those files in (evil ones excepted); file
    # faults and unusable pages leave nothing of their project.
    stored_projects = set(
        Distribution.objects.values_list("project__normalized_name", flat=True).distinct()
    )
    assert stored_projects == {*HEALTHY, *EVIL}
    assert not Distribution.objects.filter(filename__contains="evil").exists()
    assert not Project.objects.filter(normalized_name__in=[*FILE_FAULTS, "p-5xx"]).exists()
    blobs = {p for p in files_under(blob_store) if not p.endswith(".metadata")}
    assert blobs == {str(blob_store / d.blob_path) for d in Distribution.objects.all()}
    assert store_problems() == []
    assert files_under(settings.TMP_DIR) == []
    assert evil_files(tmp_path) == []


@pytest.mark.parametrize("protocol", ["pypi-json"])
def test_failed_projects_wait_for_their_backoff(hostile, protocol):
    arm(hostile, protocol)
    before = timezone.now()

    sync(hostile, protocol=protocol)

    states = {s.normalized_name: s for s in ProjectSyncState.objects.all()}
    for name in FAULTS:
        state = states[name]
        assert state.attempts == 1
        assert state.last_error
        assert state.next_retry > before + timedelta(seconds=30)
        assert state.serial_reached < state.serial_wanted
    for name in HEALTHY:
        assert (states[name].attempts, states[name].next_retry) == (0, None)
    first_delay = states["p-5xx"].next_retry - before
    # Still failing: the next failure backs off further (exponentially).
    backoff_elapses()
    before = timezone.now()
    sync(hostile, protocol=protocol)
    for name in FAULTS:
        state = ProjectSyncState.objects.get(normalized_name=name)
        assert state.attempts == 2
        assert state.next_retry - before > first_delay * 1.5, name


@pytest.mark.parametrize("protocol", ["pypi-json", "xmlrpc"])
def test_a_sync_before_the_backoff_leaves_failed_projects_alone(hostile, protocol):
    arm(hostile, protocol)
    sync(hostile, protocol=protocol)
    hostile.clear_faults()
    hostile.clear_requests()

    run = sync(hostile, protocol=protocol)

    # Only the stale project, which is not a failure, is visited again at once.
    assert hostile.requested_projects() == {STALE}
    assert (run.state, run.projects_done) == ("succeeded", 1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sync_after_the_faults_clear_converges(hostile, upstream, client, tmp_path, protocol):
    arm(hostile, protocol)
    sync(hostile, protocol=protocol)
    hostile.clear_faults()
    backoff_elapses()

    run = sync(hostile, protocol=protocol)

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    for name in [*HEALTHY, *FAULTS, STALE]:
        assert_node_mirrors(client, upstream, name)
    states = ProjectSyncState.objects.all()
    assert {(s.attempts, s.next_retry, s.last_error) for s in states} == {(0, None, "")}
    assert all(s.serial_reached == s.serial_wanted for s in states)
    assert store_problems() == []
    assert files_under(settings.TMP_DIR) == []
    assert evil_files(tmp_path) == []


def test_stale_page_is_retried_a_bounded_number_of_times(hostile, settings):
    settings.PYPIMIRROR_SYNC_MAX_ATTEMPTS_STALE = 3
    hostile.add_fault(Fault(stale=True), project=STALE, kind="simple")

    run = sync(hostile)

    assert len(hostile.requests(kind="simple", project=STALE)) == 3
    assert run.projects_skipped == 1
    assert run.projects_done == len(HEALTHY) + len(FAULTS)
    state = ProjectSyncState.objects.get(normalized_name=STALE)
    assert (state.serial_reached, state.attempts) == (0, 0)
    assert "older than" in state.last_error


def test_stale_page_that_catches_up_within_the_run_is_synced(hostile, upstream, client):
    hostile.add_fault(Fault(stale=True, times=1), project=STALE, kind="simple")

    run = sync(hostile)

    assert run.state == SyncRun.State.SUCCEEDED, run.errors
    assert len(hostile.requests(kind="simple", project=STALE)) == 2
    assert_node_mirrors(client, upstream, STALE)


def test_stale_page_after_a_change_keeps_the_old_state_until_it_catches_up(
    hostile, upstream, client
):
    sync(hostile)
    upstream.add_release(STALE, "2.0")
    upstream.write()
    hostile.add_fault(Fault(stale=True), project=STALE, kind="simple")

    run = sync(hostile)

    assert run.projects_skipped == 1
    assert set(node_served(client, STALE)) == {
        f.filename for f in upstream.release(STALE, "1.0").files.values()
    }
    hostile.clear_faults()
    run = sync(hostile)
    assert run.state == SyncRun.State.SUCCEEDED
    assert_node_mirrors(client, upstream, STALE)


def test_one_bad_file_does_not_hold_back_the_projects_good_files(hostile, upstream, client):
    files = upstream.release("p-corrupt", "1.0").files.values()
    sdist = next(f for f in files if f.packagetype == "sdist")
    wheel = next(f for f in files if f.packagetype == "bdist_wheel")
    hostile.add_fault(Fault(corrupt=True), path=f"/packages/{sdist.path}")

    run = sync(hostile)

    assert run.projects_failed == 1
    served = node_served(client, "p-corrupt")
    assert set(served) == {wheel.filename}
    state = ProjectSyncState.objects.get(normalized_name="p-corrupt")
    assert state.serial_reached < state.serial_wanted
