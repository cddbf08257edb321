"""Planning at PyPI's size for benchmarks/scale.py: a sync's plan when the upstream moved by 1,000.

The upstream is a small server in this process: the node's own PEP 691 root (700,000 projects
with ``_last-serial``), fetched once and served as it is, so that the node's render is not
counted, and the node's own XML-RPC changelog, passed through. The catalog's upstream
(``pypi``) is pointed at it and set back as if the upstream's serial had moved by 1,000 since
its last plan: the upstream's ``last_serial`` 1,000 back, and the projects those 1,000 journal
entries name one serial behind. Then ``plan_sync`` runs in a ``manage.py shell`` of the node's
settings, timed, its peak RSS read from /proc (reset just before the plan): once with the
changelog (how a sync plans against PyPI or a pypimirror node), once with the server answering
no XML-RPC (a first sync, a rules change, or an upstream without a changelog read the listing).
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


def _upstream_server(body: bytes, node_url: str) -> ThreadingHTTPServer:
    class Upstream(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.split("?")[0] != "/pypi" or not self.server.changelog:
                self.send_error(404)
                return
            answer = httpx.post(
                node_url + "/pypi", content=request, headers={"Content-Type": "text/xml"},
                timeout=600,
            )  # fmt: skip
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.changelog = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure_planning(node: Server, *, env: dict[str, str], database_url: str) -> dict:
    """{changelog: {planned, seconds, rss_before, rss_peak}, listing: {...}, listed,
    root_bytes}: one plan after a move of 1,000 serials with the changelog, one without."""
    response = httpx.get(
        node.url + "/simple/", headers={"Accept": JSON, "Accept-Encoding": "identity"},
        timeout=600,
    )  # fmt: skip
    response.raise_for_status()
    body = response.content
    serial = int(response.headers["X-PyPI-Last-Serial"])
    with psycopg.connect(database_url, autocommit=True) as conn:
        listed = conn.execute("SELECT count(*) FROM replication_projectsyncstate").fetchone()[0]
        # Every project reached at its serial, but those the last 1,000 serials name: one
        # behind, as if the upstream had moved by 1,000 since the last plan.
        conn.execute(
            """UPDATE replication_projectsyncstate s SET serial_reached = p.last_serial,
                   serial_wanted = p.last_serial, next_retry = NULL
               FROM catalog_project p
               WHERE p.normalized_name = s.normalized_name AND s.upstream_id = 1
                 AND (s.serial_reached <> p.last_serial OR s.serial_wanted <> p.last_serial)"""
        )
        conn.execute(
            """UPDATE replication_projectsyncstate s
               SET serial_reached = p.last_serial - 1, serial_wanted = p.last_serial - 1
               FROM catalog_project p
               WHERE p.normalized_name = s.normalized_name AND s.upstream_id = 1
                 AND p.normalized_name IN (
                     SELECT normalized_name FROM catalog_journalentry WHERE id > %s)""",
            [serial - MOVED],
        )
    server = _upstream_server(body, node.url)
    plans = {}
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        for method in ("changelog", "listing"):
            server.changelog = method == "changelog"
            output = subprocess.run(
                manage("shell", "-c", PLAN.format(url=url, serial=serial - MOVED)), env=env,
                cwd=ROOT, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            planned, seconds, before, peak = re.search(
                r"^PLAN (\d+) ([\d.]+) (\d+) (\d+)$", output, re.M
            ).groups()
            plans[method] = {
                "planned": int(planned),
                "seconds": float(seconds),
                "rss_before": int(before),
                "rss_peak": int(peak),
            }
    finally:
        server.shutdown()
        server.server_close()
    return plans | {"listed": listed, "root_bytes": len(body)}
