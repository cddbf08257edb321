"""A node joins a network with two settings: a live hub (which is also the node's upstream) and
live nodes with PYPIMIRROR_HUB_URL and PYPIMIRROR_HUB_TOKEN, synced with ``manage.py sync`` as
an operator runs it. The node appears on the hub with its report after each sync (the first
contact, which starts over with every app, and a sync with the domain apps alone); a node with a
wrong token logs a warning and its sync still exits 0."""

from collections.abc import Iterator

import httpx
import pytest

from tests.support.dists import build_chain
from tests.support.servers import LiveServer, live_server

from .nodes import node_serial, sync
from .test_sync_domain_apps import FRAMEWORK_MODULES, sync_logging_imports

pytestmark = pytest.mark.e2e

WRONG_TOKEN = "pmt_" + "w" * 43


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[LiveServer]:
    dists = tmp_path_factory.mktemp("hub-dists")
    build_chain(dists, prefix="netchain", length=2)
    with live_server(dists=[dists]) as server:
        yield server


@pytest.fixture(scope="module")
def token(hub) -> str:
    return hub.manage("mirror_add", "node-a", "https://node-a.example.org/").stdout.strip()


def node_env(hub: LiveServer, token: str) -> dict[str, str]:
    return {"PYPIMIRROR_HUB_URL": hub.url, "PYPIMIRROR_HUB_TOKEN": token}


def latest_report(hub: LiveServer, name: str) -> dict | None:
    mirror = httpx.get(f"{hub.url}/api/v1/mirrors/{name}/", timeout=10).json()
    return mirror["latest_report"]


def reports(hub: LiveServer, name: str) -> list[tuple]:
    """(state, serial, upstream_serial, software) of the mirror's reports on the hub, oldest
    first."""
    lines = hub.shell(
        "from apps.network.models import StatusReport\n"
        f"for r in StatusReport.objects.filter(mirror__name={name!r}).order_by('pk'):\n"
        "    print('report', r.state, r.serial, r.upstream_serial, r.software,\n"
        "          r.free_disk_bytes > 0)"
    ).stdout.split("\n")
    return [tuple(line.split()[1:]) for line in lines if line.startswith("report ")]


def test_a_node_appears_on_its_hub_after_each_sync(hub, token):
    with live_server(env=node_env(hub, token)) as node:
        first = sync(node, hub.url)  # first contact: starts over with every app
        assert first.returncode == 0, first.stdout + first.stderr
        assert latest_report(hub, "node-a")["state"] == "idle"
        second = sync_logging_imports(node, hub.url)  # a known upstream: the domain apps alone
        assert second.status == 0, second.output
        assert "apps.replication.hub_report" in second.imported
        assert not (FRAMEWORK_MODULES | {"apps.network", "rest_framework"}) & set(second.imported)

        serial = node_serial(node.url)
        hub_serial = node_serial(hub.url)

    shown = latest_report(hub, "node-a")
    assert (shown["state"], shown["serial"]) == ("idle", serial)
    assert (shown["software"], shown["version"]) == ("pypimirror", "0.1.0")
    assert shown["free_disk_bytes"] > 0
    assert (
        reports(hub, "node-a")
        == [
            ("idle", str(serial), str(hub_serial), "pypimirror", "True"),
        ]
        * 2
    )
    assert token not in first.stdout + first.stderr + second.output


def test_a_wrong_token_is_a_warning_and_the_sync_still_succeeds(hub, token):
    with live_server(env=node_env(hub, WRONG_TOKEN)) as node:
        result = sync(node, hub.url)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Run #1 succeeded" in output
    assert f"report to the hub {hub.url}/api/v1/reports/ refused: HTTP 401" in output
    assert WRONG_TOKEN not in output and WRONG_TOKEN[4:] not in output
