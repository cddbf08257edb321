from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.network.health import Availability
from apps.network.models import Mirror, MirrorURL, NetworkSettings, Probe, StatusReport
from apps.network.selectors import mirror_latest_report, network_settings, probe_location_hub
from apps.network.services import (
    mirror_disable,
    mirror_probe_outcome_record,
    probes_prune,
    report_record,
    reports_prune,
)
from apps.network.tasks import prune_probes_and_reports

pytestmark = pytest.mark.django_db


def test_mirror_create_makes_the_mirror_and_its_url(make_mirror):
    mirror = make_mirror("alpha", country="de", admin_email="ops@alpha.example.org")

    assert (mirror.country.code, mirror.tier, mirror.public, mirror.active) == ("DE", 1, True, True)
    assert [u.url for u in mirror.urls.all()] == ["https://alpha.example.org/"]


def test_a_mirror_following_a_mirror_is_one_tier_below_it(make_mirror):
    first = make_mirror("first")
    second = make_mirror("second", follows_mirror=first)

    assert make_mirror("third", follows_mirror=second).tier == 3
    assert make_mirror("outside", follows_url="https://pypi.org/").tier == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"admin_email": "not-an-address"}, "admin_email"),
        ({"url": "ftp://alpha.example.org/"}, "url"),
        ({"url": "https://alpha.example.org/?token=1"}, "url"),
        ({"url": "https://user:secret@alpha.example.org/"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_mirror_create_refuses_bad_input_and_saves_nothing(make_mirror, fields, field):
    with pytest.raises(ValidationError) as caught:
        make_mirror("alpha", **fields)

    assert field in caught.value.message_dict
    assert not Mirror.objects.exists()
    assert not MirrorURL.objects.exists()


def test_mirror_create_refuses_a_taken_name_or_url(make_mirror):
    make_mirror("alpha", url="https://alpha.example.org/")

    with pytest.raises(ValidationError) as caught:
        make_mirror("alpha", url="https://other.example.org/")
    assert "name" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        make_mirror("beta", url="https://ALPHA.example.org")
    assert "url" in caught.value.message_dict
    assert list(Mirror.objects.values_list("name", flat=True)) == ["alpha"]


def test_a_report_is_a_hint_it_never_enables_a_disabled_mirror(make_mirror):
    mirror = make_mirror("alpha")
    Mirror.objects.filter(pk=mirror.pk).update(
        active=False,
        disabled_by="probes",
        disabled_reason="4 probes failed",
        consecutive_failures=4,
    )
    mirror.refresh_from_db()

    report = report_record(mirror=mirror, state="idle", serial=123, software="pypimirror")

    mirror.refresh_from_db()
    assert (mirror.active, mirror.consecutive_failures, mirror.disabled_reason) == (
        False,
        4,
        "4 probes failed",
    )
    assert mirror_latest_report(mirror=mirror) == report


def test_a_report_sets_the_mirrors_maintenance_window(make_mirror):
    mirror = make_mirror("alpha")
    until = timezone.now() + timedelta(hours=2)

    report_record(mirror=mirror, state="paused", maintenance_until=until)

    mirror.refresh_from_db()
    assert mirror.maintenance_until == until
    assert mirror.in_maintenance()
    report_record(mirror=mirror, state="idle")  # saying nothing of it leaves the window
    mirror.refresh_from_db()
    assert mirror.maintenance_until == until


def _probe(mirror, *, age: timedelta) -> Probe:
    return Probe.objects.create(
        url=mirror.urls.get(),
        location=probe_location_hub(),
        checked=timezone.now() - age,
        reachable=True,
        http_status=200,
    )


def test_probes_prune_deletes_probes_past_the_retention_staff_set(make_mirror):
    mirror = make_mirror("alpha")
    NetworkSettings.objects.update_or_create(
        pk=1, defaults={"probe_retention_days": 7, "report_retention_days": 7}
    )
    kept = _probe(mirror, age=timedelta(days=6))
    _probe(mirror, age=timedelta(days=8))

    assert probes_prune() == 1
    assert list(Probe.objects.all()) == [kept]


def test_reports_prune_keeps_each_mirrors_latest_report_however_old(make_mirror):
    alpha, beta = make_mirror("alpha"), make_mirror("beta")
    now = timezone.now()
    old = now - timedelta(days=40)
    report_record(mirror=alpha, state="idle")
    StatusReport.objects.filter(mirror=alpha).update(received=now)
    for mirror in (alpha, beta):
        StatusReport.objects.create(mirror=mirror, state="idle", received=old)
    StatusReport.objects.create(mirror=beta, state="failed", received=old - timedelta(days=1))

    assert reports_prune(days=30) == 2

    left = StatusReport.objects.order_by("mirror__name").values_list("mirror__name", "received")
    assert list(left) == [("alpha", now), ("beta", old)]


def test_the_retention_defaults_come_from_the_settings(settings):
    settings.PYPIMIRROR_NETWORK_PROBE_RETENTION_DAYS = 11
    settings.PYPIMIRROR_NETWORK_REPORT_RETENTION_DAYS = 12

    row = network_settings()

    assert (row.probe_retention_days, row.report_retention_days) == (11, 12)
    assert NetworkSettings.objects.count() == 1


def test_the_prune_task_is_scheduled_daily_and_prunes(make_mirror):
    task = PeriodicTask.objects.get(task="apps.network.tasks.prune_probes_and_reports")
    assert (task.interval.every, task.interval.period, task.enabled) == (1, "days", True)
    mirror = make_mirror("alpha")
    _probe(mirror, age=timedelta(days=400))

    prune_probes_and_reports()

    assert not Probe.objects.exists()


def test_n_failed_probes_in_a_row_disable_a_mirror_with_the_reason(make_mirror, settings):
    settings.PYPIMIRROR_NETWORK_DISABLE_AFTER = 3
    mirror = make_mirror("alpha")

    decisions = [
        mirror_probe_outcome_record(mirror=mirror, good=good, error="connection refused")
        for good in (False, False, True, False, False, False)
    ]

    assert decisions[-1] == Availability.DISABLE
    assert set(decisions[:-1]) == {Availability.KEEP}
    mirror.refresh_from_db()
    assert (mirror.active, mirror.disabled_by) == (False, "probes")
    assert mirror.disabled_reason == "3 probes in a row failed: connection refused"


def test_n_good_probes_enable_a_mirror_the_probes_disabled(make_mirror, settings):
    settings.PYPIMIRROR_NETWORK_DISABLE_AFTER = 2
    mirror = make_mirror("alpha")
    for _ in range(2):
        mirror_probe_outcome_record(mirror=mirror, good=False)

    assert mirror_probe_outcome_record(mirror=mirror, good=True) == Availability.KEEP
    assert mirror_probe_outcome_record(mirror=mirror, good=True) == Availability.ENABLE
    mirror.refresh_from_db()
    assert (mirror.active, mirror.disabled_reason, mirror.consecutive_successes) == (True, "", 0)


def test_good_probes_leave_a_mirror_staff_disabled_disabled(make_mirror, settings):
    settings.PYPIMIRROR_NETWORK_DISABLE_AFTER = 2
    mirror = make_mirror("alpha")
    mirror_disable(mirror=mirror, reason="moving hosts")

    for _ in range(5):
        mirror_probe_outcome_record(mirror=mirror, good=True)

    mirror.refresh_from_db()
    assert (mirror.active, mirror.disabled_reason) == (False, "moving hosts")


def test_a_mirror_in_maintenance_is_not_disabled_by_failed_probes(make_mirror, settings):
    settings.PYPIMIRROR_NETWORK_DISABLE_AFTER = 2
    mirror = make_mirror("alpha")
    report_record(mirror=mirror, state="paused", maintenance_until=timezone.now() + timedelta(1))

    for _ in range(5):
        mirror_probe_outcome_record(mirror=mirror, good=False)

    mirror.refresh_from_db()
    assert mirror.active
    assert mirror.consecutive_failures == 5
