"""``/healthz`` and ``/readyz`` through the test client (tests/e2e/test_health.py: real parts)."""

import pytest

from apps.index import health

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://:hunter2-secret@127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_200_when_every_part_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "store": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_naming_an_unreachable_broker_without_its_password(client, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert "refused" in body["checks"]["broker"].lower()
    assert b"hunter2" not in response.content


def test_readyz_is_503_when_the_store_is_a_file(client, blob_store):
    blob_store.parent.mkdir(parents=True, exist_ok=True)
    blob_store.write_bytes(b"not a directory")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["store"]


def test_readyz_creates_a_store_that_is_not_there_yet(client, blob_store):
    assert not blob_store.exists()
    assert client.get("/readyz").status_code == 200
    assert blob_store.is_dir()


def test_a_reason_never_repeats_a_configured_password(settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    reason = health._reason(ConnectionError("AUTH failed for hunter2-secret at 127.0.0.1:1"))
    assert reason == "ConnectionError: AUTH failed for *** at 127.0.0.1:1"


def test_readyz_on_s3_is_200_with_the_bucket_and_503_without_showing_the_secret_key(
    client, settings, s3_bucket
):
    from tests.support.s3 import SECRET_KEY

    assert client.get("/readyz").status_code == 200

    blobs = settings.STORAGES["blobs"]
    options = {**blobs["OPTIONS"], "bucket_name": "no-such-bucket"}
    settings.STORAGES = {**settings.STORAGES, "blobs": {**blobs, "OPTIONS": options}}
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["store"]
    assert "NoSuchBucket" in response.json()["checks"]["store"]
    assert SECRET_KEY.encode() not in response.content


def test_a_reason_never_repeats_the_s3_secret_key(settings, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-example")
    reason = health._reason(PermissionError("signed with wJalrXUtnFEMI-example: refused"))
    assert reason == "PermissionError: signed with ***: refused"
