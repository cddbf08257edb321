"""Planning at PyPI's size for benchmarks/scale.py: a sync's plan when the upstream moved by 1,000.

The upstream is the node's own PEP 691 root (700,000 projects with ``_last-serial``), fetched
once and served as it is by a small server in this process, so that the node's render is not
counted. The catalog's upstream (``pypi``) is pointed at it and set back as if the upstream's
serial had moved by 1,000 since its last plan: 1,000 projects' sync states one serial behind,
the upstream's ``last_serial`` 1,000 back. Then ``plan_sync`` runs in a ``manage.py shell`` of
the node's settings, timed, its peak RSS read from /proc (reset just before the plan).
"""

import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import psycopg

from benchmarks._common import manage
from benchmarks.harness import ROOT, Server

JSON = "application/vnd.pypi.simple.v1+json"
MOVED = 1000
PLAN = """
import gc, re, time
import httpx
from apps.replication.clients.detect import client_for
from apps.replication.models import Upstream
from apps.replication.planner import plan_sync
from apps.replication.rules import rules_fingerprint, rules_from_json
upstream = Upstream.objects.get(pk=1)
Upstream.objects.filter(pk=1).update(
    url={url!r}, last_serial={serial}, listing_etag="",
    rules_applied=rules_fingerprint(rules_from_json(upstream.rules)),
)
upstream.refresh_from_db()
gc.collect()
def peak():
    text = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+)", text).group(1)) * 1024
with open("/proc/self/clear_refs", "w") as handle:
    handle.write("5")  # the peak RSS starts again from the current RSS
before = peak()
began = time.monotonic()
with httpx.Client(timeout=600) as http:
    client = client_for(url=upstream.url, protocol=upstream.protocol, http=http)
    plan = plan_sync(upstream=upstream, client=client)
seconds = time.monotonic() - began
print("PLAN", len(plan.projects), f"{{seconds:.3f}}", before, peak())
"""


def _root_server(body: bytes) -> ThreadingHTTPServer:
    class Root(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/simple/":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure_planning(node: Server, *, env: dict[str, str], database_url: str) -> dict:
    """{planned, seconds, rss_before, rss_peak, listed} of one plan after a move of 1,000."""
    response = httpx.get(
        node.url + "/simple/", headers={"Accept": JSON, "Accept-Encoding": "identity"},
        timeout=600,
    )  # fmt: skip
    response.raise_for_status()
    body = response.content
    serial = int(response.headers["X-PyPI-Last-Serial"])
    with psycopg.connect(database_url, autocommit=True) as conn:
        listed = conn.execute("SELECT count(*) FROM replication_projectsyncstate").fetchone()[0]
        conn.execute(
            """UPDATE replication_projectsyncstate s
               SET serial_reached = p.last_serial - 1, serial_wanted = p.last_serial - 1
               FROM catalog_project p
               WHERE p.normalized_name = s.normalized_name AND s.upstream_id = 1
                 AND p.id IN (SELECT id FROM catalog_project WHERE status = 'active'
                              ORDER BY id DESC LIMIT %s)""",
            [MOVED],
        )
        # Projects the serial changes before this moved too: planned by right, as 1,000 are.
        conn.execute(
            """UPDATE replication_projectsyncstate s SET serial_reached = p.last_serial,
                   serial_wanted = p.last_serial
               FROM catalog_project p
               WHERE p.normalized_name = s.normalized_name AND s.serial_reached > 0
                 AND p.id NOT IN (SELECT id FROM catalog_project WHERE status = 'active'
                                  ORDER BY id DESC LIMIT %s)
                 AND s.serial_reached <> p.last_serial""",
            [MOVED],
        )
    server = _root_server(body)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        output = subprocess.run(
            manage("shell", "-c", PLAN.format(url=url, serial=serial - MOVED)), env=env,
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    planned, seconds, before, peak = re.search(
        r"^PLAN (\d+) ([\d.]+) (\d+) (\d+)$", output, re.M
    ).groups()
    return {
        "planned": int(planned),
        "seconds": float(seconds),
        "rss_before": int(before),
        "rss_peak": int(peak),
        "listed": listed,
        "root_bytes": len(body),
    }
