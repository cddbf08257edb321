"""``manage.py sync`` starts with the domain apps alone (manage.py, settings.DOMAIN_APPS), and a
first contact with an upstream adds django-celery-beat to its apps, in the same process, to create
the upstream with its periodic sync. Observed as an operator would run it: a node of its own,
the real command, Python's own import log (``-X importtime``) telling which modules it loaded."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)
# What only the framework apps bring: the admin, auth's models, django-celery-beat's models (time
# zone fields, Celery). The log leaves out what importlib.import_module loads (Django's apps and
# models modules themselves), so these are modules they import in turn.
FRAMEWORK_MODULES = {
    "django.contrib.admin",
    "django.contrib.auth.base_user",
    "timezone_field",
    "celery",
    "django_countries",  # the mirror network's models (apps.network)
}


@dataclass
class Sync:
    """One ``manage.py sync``: its exit status, output, and the modules each process imported."""

    status: int
    output: str
    imported: list[str]


def sync_logging_imports(node: LiveServer, upstream: str) -> Sync:
    """``python -X importtime manage.py sync UPSTREAM`` on the node (a process started over
    keeps the interpreter's options, so it logs its imports too)."""
    result = node.manage("sync", upstream, check=False, python_options=("-X", "importtime"))
    imported = IMPORTED.findall(result.stderr)
    assert imported, f"no import log in: {result.stderr[-2000:]}"
    return Sync(result.returncode, result.stdout + result.stderr, imported)


@pytest.fixture(scope="module")
def node() -> Iterator[LiveServer]:
    with live_server() as server:
        yield server


@pytest.fixture(scope="module")
def first_contact(node, index_server) -> Sync:
    return sync_logging_imports(node, index_server.url)


@pytest.fixture(scope="module")
def known_upstream(node, index_server, first_contact) -> Sync:
    return sync_logging_imports(node, index_server.url)


def periodic_syncs(node: LiveServer) -> list[str]:
    """(name, enabled) of the node's periodic upstream syncs, as printed."""
    lines = node.shell(
        "from django_celery_beat.models import PeriodicTask\n"
        "for task in PeriodicTask.objects.filter(task__endswith='.sync_upstream'):\n"
        "    print(task.name, task.enabled)"
    ).stdout.splitlines()
    return [line for line in lines if line.startswith("Sync upstream ")]


def test_first_contact_loads_django_celery_beat_alone_and_creates_the_periodic_sync(
    node, first_contact
):
    assert first_contact.status == 0, first_contact.output
    assert "Run #1 succeeded" in first_contact.output
    # One process: the domain-only start found no such upstream and added django-celery-beat
    # (its time zone field, Celery) to its apps, and no other framework app.
    assert first_contact.imported.count("django.core.management") == 1
    assert {"timezone_field", "celery"} <= set(first_contact.imported)
    assert not {"django.contrib.admin", "django.contrib.auth.base_user", "django_countries"} & set(
        first_contact.imported
    )
    [periodic] = periodic_syncs(node)
    assert re.fullmatch(r"Sync upstream 127-0-0-1-\d+ \(#\d+\) True", periodic)


def test_known_upstream_syncs_with_the_domain_apps_alone(node, known_upstream):
    assert known_upstream.status == 0, known_upstream.output
    assert "0 project(s) to visit" in known_upstream.output
    assert known_upstream.imported.count("django.core.management") == 1
    assert not FRAMEWORK_MODULES & set(known_upstream.imported)
    # nor the REST API's router (pypimirror/api.py), nor DRF: the TID253 rule (pyproject.toml)
    assert not {"rest_framework", "pypimirror.api"} & set(known_upstream.imported)
    assert {"apps.replication.services", "psycopg"} <= set(known_upstream.imported)
    assert len(periodic_syncs(node)) == 1


def test_unknown_name_is_reported_with_the_domain_apps_alone(node, first_contact):
    sync = sync_logging_imports(node, "no-such-upstream")

    assert sync.status == 2
    assert "no upstream named 'no-such-upstream' (configured: 127-0-0-1-" in sync.output
    assert not FRAMEWORK_MODULES & set(sync.imported)
