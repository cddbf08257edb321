"""pypimirror/api.py: one router at /api/v1/ that each app's api module registers into."""

import pytest

from apps.network.api import MirrorViewSet, NetworkStatusViewSet
from apps.replication.api import SyncRunViewSet
from pypimirror.api import router


@pytest.mark.django_db
def test_api_root_lists_what_the_apps_registered(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {
        "mirrors": "http://testserver/api/v1/mirrors/",
        "network/status": "http://testserver/api/v1/network/status/",
        "reports": "http://testserver/api/v1/reports/",
        "sync-runs": "http://testserver/api/v1/sync-runs/",
        "takedowns": "http://testserver/api/v1/takedowns/",
        "verify-runs": "http://testserver/api/v1/verify-runs/",
        "verify-findings": "http://testserver/api/v1/verify-findings/",
    }


def test_replication_registers_its_viewset_on_the_project_router():
    assert ("sync-runs", SyncRunViewSet, "sync-run") in router.registry


def test_network_registers_the_mirrors_viewset_on_the_project_router():
    assert ("mirrors", MirrorViewSet, "mirror") in router.registry
    assert ("network/status", NetworkStatusViewSet, "network-status") in router.registry
