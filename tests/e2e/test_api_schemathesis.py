"""schemathesis against a live hub (gunicorn, production settings): whatever a client sends to
the API the schema describes, no answer is a server error."""

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import live_server

pytestmark = pytest.mark.e2e

ST = Path(sys.executable).with_name("st")
# Enough to reach every parameter and body field; bounded so the run takes seconds.
MAX_EXAMPLES = 100

SEED = """
from datetime import timedelta
from django.utils import timezone
from apps.network.models import Probe
from apps.network.selectors import probe_location_hub
from apps.network.services import mirror_disable
from apps.network.models import Mirror, MirrorURL
hub = probe_location_hub()
now = timezone.now()
for n, url in enumerate(MirrorURL.objects.order_by("pk")):
    for hours in range(6):
        checked = now - timedelta(hours=hours, minutes=n)
        good = hours != 2
        Probe.objects.create(
            url=url, location=hub, checked=checked, reachable=good,
            http_status=200 if good else None, duration=0.2 + n / 10,
            last_modified=checked - timedelta(seconds=90) if good else None,
            lag_seconds=90.0 if good else None, mirror_serial=1000 if good else None,
            lag_serials=0 if good else None, integrity_ok=True if good else None,
            error="" if good else "ConnectError: connection refused",
        )
mirror_disable(mirror=Mirror.objects.get(name="gamma"), reason="staff: moving racks")
"""


# KNOWN: a NUL byte in /api/v1/sync-runs/?upstream= reaches PostgreSQL, which refuses it (500).
# apps/replication's input parsing is being hardened elsewhere (issue 12); until then that one
# operation is sent no NUL bytes. Every other operation gets them.
CONFIG = """
[[operations]]
include-path = "/api/v1/sync-runs/"
generation.allow-x00 = false
"""


def test_schemathesis_finds_no_server_error(tmp_path):
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    with live_server(env={"PYPIMIRROR_API_ANON_RATE": ""}) as hub:
        tokens = {}
        for name, country in (("alpha", "DE"), ("beta", "JP"), ("gamma", "FR")):
            added = hub.manage(
                "mirror_add", name, f"https://{name}.example.org/", "--country", country
            )
            tokens[name] = added.stdout.strip()
        hub.shell(SEED)
        httpx.post(
            f"{hub.url}/api/v1/mirrors/alpha/reports/",
            json={"state": "idle", "serial": 1000},
            headers={"Authorization": f"Bearer {tokens['alpha']}"},
            timeout=10,
        ).raise_for_status()

        started = time.monotonic()
        result = subprocess.run(
            [
                ST, "--config-file", "schemathesis.toml",
                "run", f"{hub.url}/api/schema/?format=json", "--url", hub.url,
                "--checks", "not_a_server_error",
                "--max-examples", str(MAX_EXAMPLES), "--seed", "20261203",
                "--phases", "examples,coverage,fuzzing", "--workers", "2",
                "--generation-database", "none", "--no-color",
                # a valid token, so report bodies are read and not all refused at the door
                "--header", f"Authorization: Bearer {tokens['alpha']}",
                "--request-timeout", "10",
            ],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        took = time.monotonic() - started
        errors = hub.error_log.read_text()

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 8" in result.stdout  # every operation of the schema
    assert took < 60
    assert "Traceback" not in errors, errors[-4000:]
