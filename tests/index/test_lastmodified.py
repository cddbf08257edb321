"""PEP 381's /last-modified: the node's last change, text/plain, GMT, as bandersnatch writes it."""

import re
from datetime import UTC, datetime

import pytest
from django.db import transaction

from apps.catalog.models import JournalEntry, Release
from apps.catalog.services import project_lock, release_set_yanked
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db


def date_entries(newest: datetime, others: datetime) -> None:
    """Give the journal known times: the newest entry ``newest``, every other one ``others``."""
    last = JournalEntry.objects.latest("id")
    JournalEntry.objects.exclude(pk=last.pk).update(submitted_date=others)
    JournalEntry.objects.filter(pk=last.pk).update(submitted_date=newest)


def test_nothing_published_is_404_saying_so(client):
    response = client.get("/last-modified")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert b"Nothing has been published" in response.content


def test_answers_the_time_of_the_newest_journal_entry(client, publish):
    publish(DistSpec("foo", "1.0"))
    date_entries(datetime(2024, 3, 4, 5, 6, 7, 890, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    response = client.get("/last-modified")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"20240304T05:06:07\n"
    assert response["Last-Modified"] == "Mon, 04 Mar 2024 05:06:07 GMT"


def test_format_is_bandersnatchs_iso_8601_form(client, publish):
    publish(DistSpec("foo", "1.0"))
    body = client.get("/last-modified").content.decode()
    assert re.fullmatch(r"\d{8}T\d\d:\d\d:\d\d\n", body)
    written = datetime.strptime(body.strip(), "%Y%m%dT%H:%M:%S").replace(tzinfo=UTC)
    newest = JournalEntry.objects.latest("id").submitted_date
    assert written == newest.replace(microsecond=0)


def test_a_later_change_moves_it(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    date_entries(datetime(2020, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC))
    assert client.get("/last-modified").content == b"20200101T00:00:00\n"
    with transaction.atomic():
        project = project_lock(name="foo")
        release_set_yanked(release=Release.objects.get(project=project), reason="bad")
    assert client.get("/last-modified").content != b"20200101T00:00:00\n"


def test_time_is_gmt_whatever_the_time_zone_setting(client, publish, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    publish(DistSpec("foo", "1.0"))
    date_entries(datetime(2024, 1, 1, 23, 30, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    assert client.get("/last-modified").content == b"20240101T23:30:00\n"


def test_only_safe_methods_are_allowed(client):
    assert client.post("/last-modified").status_code == 405


def test_the_serial_gives_an_etag_answered_with_304(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    first = client.get("/last-modified")
    serial = JournalEntry.objects.latest("id").pk
    assert first["ETag"] == f'"serial-{serial}"'
    assert client.get("/last-modified", headers={"If-None-Match": first["ETag"]}).status_code == 304
    since = client.get("/last-modified", headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    publish(DistSpec("foo", "2.0"), wheel=False)
    again = client.get("/last-modified", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200


def test_head_gets_the_headers_without_the_body(client, publish):
    publish(DistSpec("foo", "1.0"), wheel=False)
    got = client.get("/last-modified")
    head = client.head("/last-modified")
    assert head.status_code == 200
    assert b"".join(head.streaming_content) == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length"):
        assert head[name] == got[name]
