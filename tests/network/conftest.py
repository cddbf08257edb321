"""Network tests: mirrors made through the services, as the admin and mirror_add make them."""

import pytest

from apps.network.services import mirror_create, mirror_token_issue


@pytest.fixture
def make_mirror(db):
    """``make_mirror(name, **fields)``: a mirror with one URL (https://<name>.example.org/)."""

    def make(name: str = "alpha", **fields):
        fields.setdefault("url", f"https://{name}.example.org/")
        return mirror_create(name=name, **fields)

    return make


@pytest.fixture
def mirror_with_token(make_mirror):
    """A mirror and its token in clear."""
    mirror = make_mirror("alpha", country="DE")
    _, token = mirror_token_issue(mirror=mirror)
    return mirror, token


@pytest.fixture
def make_probe(db):
    """``make_probe(url, ago=timedelta(...), **fields)``: a probe of a ``MirrorURL`` from the hub
    as the prober records one: a good one by default (200 in 0.3 s, in step with the hub)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.network.models import Probe
    from apps.network.selectors import probe_location_hub

    location = probe_location_hub()

    def make(url, *, ago: timedelta = timedelta(minutes=5), **fields):
        checked = fields.pop("checked", timezone.now() - ago)
        good = {
            "reachable": True,
            "http_status": 200,
            "duration": 0.3,
            "last_modified": checked - timedelta(seconds=fields.get("lag_seconds") or 60.0),
            "lag_seconds": 60.0,
            "mirror_serial": 27_500_000,
            "lag_serials": 0,
            "integrity_ok": True,
        }
        return Probe.objects.create(
            url=url, location=location, checked=checked, **{**good, **fields}
        )

    return make


@pytest.fixture
def failed_probe_fields():
    """What a probe of a mirror that does not answer records."""
    return {
        "reachable": False,
        "http_status": None,
        "duration": 10.0,
        "last_modified": None,
        "lag_seconds": None,
        "mirror_serial": None,
        "lag_serials": None,
        "integrity_ok": None,
        "error": "ConnectTimeout: timed out after 10 s",
    }
