"""A project page's ref kept by the process (selectors.project_simple_ref): no query while the
catalog's generation (apps/catalog/generation.py) stays the same; a change made here, or
committed by another process of this host, is seen by the next request; and what neither
tells (a row edited by hand) lasts at most REF_MAX_AGE."""

import os
import subprocess
import sys
import time

import pytest

from apps.catalog.models import Project
from apps.index import selectors
from tests.support.dists import DistSpec

from .simple_support import JSON, get, yank

pytestmark = pytest.mark.django_db


def _block_by_hand(name: str) -> None:
    """A change no catalog service makes, so nothing bumps the generation."""
    Project.objects.filter(normalized_name=name).update(status=Project.Status.BLOCKED)


def test_a_change_through_the_catalog_is_seen_by_the_next_request(client, publish):
    publish(DistSpec("foo", "1.0"))
    before = get(client, "/simple/foo/", JSON)

    yank("foo", "1.0", reason="broken")

    after = get(client, "/simple/foo/", JSON)
    assert int(after["X-PyPI-Last-Serial"]) > int(before["X-PyPI-Last-Serial"])
    assert [f["yanked"] for f in after.json()["files"]] == ["broken", "broken"]


def test_a_bump_from_another_process_is_seen_at_once(client, publish, settings):
    publish(DistSpec("foo", "1.0"))
    assert get(client, "/simple/foo/", JSON).status_code == 200
    _block_by_hand("foo")
    assert get(client, "/simple/foo/", JSON).status_code == 200  # kept: nothing told

    code = (
        "import django; django.setup(); "
        "from apps.catalog.generation import catalog_generation_bump; catalog_generation_bump()"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYPIMIRROR_"))},
        "DJANGO_SETTINGS_MODULE": "pypimirror.settings.local",
        "PYPIMIRROR_DATA_DIR": str(settings.DATA_DIR),
    }
    subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, check=True)

    assert get(client, "/simple/foo/", JSON).status_code == 404


def test_what_nothing_tells_lasts_at_most_the_age_bound(client, publish, monkeypatch):
    monkeypatch.setattr(selectors, "REF_MAX_AGE", 0.2)
    publish(DistSpec("foo", "1.0"))
    assert get(client, "/simple/foo/", JSON).status_code == 200
    _block_by_hand("foo")

    time.sleep(0.25)

    assert get(client, "/simple/foo/", JSON).status_code == 404


def test_unknown_names_are_kept_too_and_a_new_project_is_seen(client, publish):
    assert get(client, "/simple/foo/", JSON).status_code == 404
    publish(DistSpec("foo", "1.0"))
    assert get(client, "/simple/foo/", JSON).status_code == 200
